"""Helpdesks' own webhook payloads mapped onto Inkling's ticket upsert, by their tables.

``map_payload("zammad", payload)`` reads the fields ``helpdesks.toml`` names for Zammad,
turns its status and priority words into Inkling's, its group into a team, its times into
epoch seconds, and keeps helpdesk-specific fields (tags, group, channel, ...) under their
own names, which the upsert stores in ``extra``. The result is the contract's shape
(DESIGN.md "Tickets"), ready for the ticket upsert's own checks. The raw status and
priority words are kept beside the mapped ones (``helpdesk_status``, ``helpdesk_priority``)
so nothing the helpdesk said is lost in translation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inkling.errors import InklingError, TicketError
from inkling.tickets.helpdesk_tables import HELPDESKS, Helpdesk, helpdesk
from inkling.times import parse_time

#: Most urgent first: when several tags name a priority, the most urgent wins.
_PRIORITY_ORDER = ("urgent", "high", "normal", "low")
_SHOWN = 80


@dataclass(frozen=True, slots=True)
class HelpdeskOptions:
    """One helpdesk's settings (``[integrations.NAME]``): its signing secret or shared
    token, and additions to its tables: group -> team, status and priority words, tag ->
    priority. The additions win over the packaged tables."""

    secret: str | None = None
    token: str | None = None
    teams: Mapping[str, str] = field(default_factory=dict)
    statuses: Mapping[str, str] = field(default_factory=dict)
    priorities: Mapping[str, str] = field(default_factory=dict)
    priority_tags: Mapping[str, str] = field(default_factory=dict)


def map_payload(
    name: str,
    payload: Mapping[str, Any],
    options: HelpdeskOptions | None = None,
    *,
    received_at: float | None = None,
) -> dict[str, Any]:
    """The ticket upsert ``payload`` (a webhook body from helpdesk ``name``) describes.

    Times are epoch seconds. ``received_at`` stands in for ``updated_at`` when the payload
    has none (a webhook is sent when the ticket changes). Raises TicketError, one line
    naming the helpdesk and the payload's path, when there is no ticket id or a word is not
    in the tables.
    """
    table = _table(name)
    options = options or HelpdeskOptions()
    ident = _first(payload, table.fields["id"])
    if ident is None:
        looked = ", ".join(table.fields["id"])
        raise TicketError(f"{name} payload: no ticket id (looked at {looked})")
    tags = _tags(table, payload, table.fields["tags"])
    ticket: dict[str, Any] = {
        "id": str(ident[1]),
        "source": name,
        "subject": _text(payload, table.fields["subject"]),
        "assignee": _text(payload, table.fields["assignee"]),
        "requester": _text(payload, table.fields["requester"]),
        "team": _team(payload, table.fields["group"], options.teams),
        "status": _status(table, payload, options),
        "priority": _priority(table, payload, options, tags),
        "message_ids": _message_ids(payload, table.fields["message_ids"]) or None,
    }
    for moment in ("created_at", "updated_at", "solved_at"):
        ticket[moment] = _time(name, payload, table.fields[moment])
    if ticket["updated_at"] is None:
        ticket["updated_at"] = received_at
    ticket |= _extra(table, payload)
    return {key: value for key, value in ticket.items() if value is not None}


def ignored_event(name: str, headers: Mapping[str, str]) -> str | None:
    """Why the webhook event named in ``headers`` is not about a ticket's state (Help
    Scout's ``customer.created``, a deleted conversation), or None to map it. A payload
    with no event header is mapped."""
    table = _table(name)
    if not table.event_header:
        return None
    wanted = table.event_header.lower()
    event = next((v for k, v in headers.items() if k.lower() == wanted), "").strip()
    if not event:
        return None
    if event in table.events_ignored:
        return f"{name} event {_shown(event)} does not change a ticket Inkling follows"
    if table.events_mapped and not event.startswith(table.events_mapped):
        return f"{name} event {_shown(event)} is not about a conversation"
    return None


def _table(name: str) -> Helpdesk:
    if name not in HELPDESKS:
        raise TicketError(f"no helpdesk named {_shown(name)}; one of {', '.join(HELPDESKS)}")
    return helpdesk(name)


def _values(payload: Any, path: str) -> list[Any]:
    """Every value at ``path`` ("a.b", "*" for each item of a list)."""
    nodes = [payload]
    for part in path.split("."):
        found: list[Any] = []
        for node in nodes:
            if part == "*" and isinstance(node, list):
                found.extend(node)
            elif isinstance(node, Mapping) and part in node:
                found.append(node[part])
        nodes = found
    return nodes


def _scalar(value: Any) -> str | int | float | None:
    """``value`` when it is a non-empty string (stripped) or a number, else None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _first(payload: Any, paths: Iterable[str]) -> tuple[str, str | int | float] | None:
    """The first non-empty scalar at any of ``paths``, with the path it was found at."""
    for path in paths:
        for value in _values(payload, path):
            scalar = _scalar(value)
            if scalar is not None:
                return path, scalar
    return None


def _text(payload: Any, paths: Iterable[str]) -> str | None:
    found = _first(payload, paths)
    return str(found[1]) if found else None


def _words(table: Helpdesk, value: Any) -> list[str]:
    """A tags value as words: a list of them, or one string split as the helpdesk writes
    it (Zendesk: spaces; others: commas)."""
    items = value if isinstance(value, list) else [value]
    words: list[str] = []
    for item in items:
        scalar = _scalar(item)
        if isinstance(scalar, str):
            parts = scalar.split() if table.tags_split == "space" else scalar.split(",")
            words.extend(part.strip() for part in parts if part.strip())
        elif scalar is not None:
            words.append(str(scalar))
    return words


def _tags(table: Helpdesk, payload: Any, paths: Iterable[str]) -> list[str] | None:
    for path in paths:
        words = [w for value in _values(payload, path) for w in _words(table, value)]
        if words:
            return list(dict.fromkeys(words))
    return None


def _team(payload: Any, paths: Iterable[str], teams: Mapping[str, str]) -> str | None:
    """The team of the helpdesk's group (or mailbox): the configured one, else the
    group's name in lower case. A bare id (Help Scout's mailboxId) names no team unless
    it is configured."""
    found = _first(payload, paths)
    if found is None:
        return None
    group = str(found[1])
    folded = {key.lower(): team for key, team in teams.items()}
    if group.lower() in folded:
        return folded[group.lower()]
    return None if group.isdigit() else group.lower()


def _lookup(
    name: str,
    kind: tuple[str, str],
    payload: Any,
    paths: tuple[str, ...],
    *vocabularies: Mapping[str, str],
) -> tuple[str, str] | None:
    """The raw word at ``paths`` and its meaning in the first vocabulary that has it;
    ``kind`` is the word's name, singular and plural (the plural is the setting)."""
    found = _first(payload, paths)
    if found is None:
        return None
    path, raw = found
    word = str(raw).lower()
    for vocabulary in vocabularies:
        folded = {key.lower(): value for key, value in vocabulary.items()}
        if word in folded:
            return str(raw), folded[word]
    one, setting = kind
    example = "pending" if setting == "statuses" else "high"
    raise TicketError(
        f"{name} {one} {_shown(raw)} (at {path}) is not in Inkling's table; map it in "
        f"inkling.toml: [integrations.{name}] {setting} = "
        f'{{{json.dumps(str(raw)[:_SHOWN])} = "{example}"}}'
    )


def _status(table: Helpdesk, payload: Any, options: HelpdeskOptions) -> str | None:
    found = _lookup(
        table.name,
        ("status", "statuses"),
        payload,
        table.fields["status"],
        options.statuses,
        table.statuses,
    )
    return found[1] if found else None


def _priority(
    table: Helpdesk, payload: Any, options: HelpdeskOptions, tags: list[str] | None
) -> str | None:
    """The payload's priority; else the most urgent its tags name; else None (normal)."""
    found = _lookup(
        table.name,
        ("priority", "priorities"),
        payload,
        table.fields["priority"],
        options.priorities,
        table.priorities,
    )
    if found is not None:
        return found[1]
    by_tag = {k.lower(): v for k, v in table.priority_tags.items()}
    by_tag |= {k.lower(): v for k, v in options.priority_tags.items()}
    named = {by_tag[tag.lower()] for tag in tags or () if tag.lower() in by_tag}
    return next((level for level in _PRIORITY_ORDER if level in named), None)


def _time(name: str, payload: Any, paths: Iterable[str]) -> float | None:
    found = _first(payload, paths)
    if found is None:
        return None
    path, value = found
    if isinstance(value, int | float):
        return float(value)
    try:
        return parse_time(value, f"{name} {path}")
    except InklingError as exc:
        raise TicketError(str(exc)) from exc


def _message_ids(payload: Any, paths: Iterable[str]) -> list[str]:
    """Every Message-ID at ``paths``, in angle brackets (Zammad stores some without)."""
    ids: list[str] = []
    for path in paths:
        for value in _values(payload, path):
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, str) and item.strip().strip("<>").strip():
                    ids.append(f"<{item.strip().strip('<>').strip()}>")
    return list(dict.fromkeys(ids))


def _extra(table: Helpdesk, payload: Any) -> dict[str, Any]:
    """The helpdesk-specific fields, under their own names, and the raw words."""
    extra: dict[str, Any] = {}
    for key, paths in table.extra.items():
        extra[key] = _tags(table, payload, paths) if key == "tags" else _first_value(payload, paths)
    extra["helpdesk_status"] = _text(payload, table.fields["status"])
    extra["helpdesk_priority"] = _text(payload, table.fields["priority"])
    return extra


def _first_value(payload: Any, paths: Iterable[str]) -> str | int | float | None:
    found = _first(payload, paths)
    return found[1] if found else None


def _shown(value: object) -> str:
    """An outside value as it may appear in a message: quoted, escaped, cut short."""
    return repr(str(value)[:_SHOWN])
