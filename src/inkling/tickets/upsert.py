"""A ticket upsert, as the contract writes it, checked field by field.

The same shape comes from ``inkling tickets import``, ``PUT /api/v1/tickets/{id}`` and the
helpdesk integrations (after their tables map a payload onto it). Unknown keys are kept in
``extra``; a field that is present but wrong is a :class:`TicketError` naming the field,
never a silent default.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from inkling.errors import InklingError, TicketError
from inkling.model import Priority, Status, Ticket
from inkling.times import iso, parse_time

KNOWN_KEYS = frozenset(
    {
        "id",
        "subject",
        "priority",
        "status",
        "team",
        "assignee",
        "requester",
        "created_at",
        "updated_at",
        "solved_at",
        "message_ids",
        "source",
    }
)
MAX_ID = 200
_E = TypeVar("_E", bound=StrEnum)
MAX_TEXT = 2000


def parse_ticket(data: Any, *, ticket_id: str | None = None) -> Ticket:
    """The ticket ``data`` describes; TicketError naming the field at fault.

    ``ticket_id`` is the id of the URL (``PUT /api/v1/tickets/{id}``): the body may omit
    ``id``, but may not name another. ``created_at`` defaults to ``updated_at`` and the
    other way round; one of them is required, so an update can be ordered.
    """
    if not isinstance(data, Mapping):
        raise TicketError("a ticket must be a JSON object")
    ident = _ident(data, ticket_id)
    created = _time(data, "created_at")
    updated = _time(data, "updated_at")
    if created is None and updated is None:
        raise TicketError("created_at or updated_at is required (ISO 8601 with an offset)")
    created = created if created is not None else updated
    updated = updated if updated is not None else created
    assert created is not None and updated is not None
    return Ticket(
        id=ident,
        priority=_choice(data, "priority", Priority, Priority.NORMAL),
        status=_choice(data, "status", Status, Status.OPEN),
        created_at=created,
        updated_at=updated,
        subject=_text(data, "subject"),
        team=_text(data, "team"),
        assignee=_text(data, "assignee"),
        requester=_address(data, "requester"),
        solved_at=_time(data, "solved_at"),
        source=_text(data, "source"),
        message_ids=_message_ids(data),
        extra=_extra(data),
    )


def _ident(data: Mapping[str, Any], ticket_id: str | None) -> str:
    given = data.get("id")
    if isinstance(given, int) and not isinstance(given, bool):
        given = str(given)
    if given is not None and not isinstance(given, str):
        raise TicketError("id must be a string")
    if ticket_id is not None and given is not None and given != ticket_id:
        raise TicketError(f"id {given!r} in the body does not match {ticket_id!r} in the URL")
    ident = (given if given is not None else ticket_id or "").strip()
    if not ident:
        raise TicketError("id is required")
    if len(ident) > MAX_ID or not ident.isprintable():
        raise TicketError(f"id must be at most {MAX_ID} printable characters")
    return ident


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TicketError(f"{name} must be a string")
    value = value.replace("\x00", "").strip()
    if len(value) > MAX_TEXT:
        raise TicketError(f"{name} is longer than {MAX_TEXT} characters")
    return value or None


def _address(data: Mapping[str, Any], name: str) -> str | None:
    value = _text(data, name)
    if value is None:
        return None
    if "@" not in value or any(c.isspace() for c in value):
        raise TicketError(f"{name} must be an email address, not {value!r}")
    return value.lower()


def _choice(data: Mapping[str, Any], name: str, kind: type[_E], default: _E) -> _E:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise TicketError(f"{name} must be a string")
    try:
        return kind(value.strip().lower())
    except ValueError:
        words = "|".join(member.value for member in kind)
        raise TicketError(f"{name} must be one of {words}, not {value!r}") from None


def _time(data: Mapping[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise TicketError(f"{name} must be a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise TicketError(f"{name} must be a time")
        return float(value)
    if not isinstance(value, str):
        raise TicketError(f"{name} must be ISO 8601 with an offset, or epoch seconds")
    try:
        return parse_time(value, name)
    except InklingError as exc:
        raise TicketError(str(exc)) from exc


def _message_ids(data: Mapping[str, Any]) -> tuple[str, ...]:
    value = data.get("message_ids")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TicketError("message_ids must be a list of Message-ID strings")
    ids = []
    for item in value:
        bare = item.strip().strip("<>").strip()
        if not bare or len(bare) > MAX_TEXT or not bare.isprintable():
            raise TicketError(f"message_ids holds {item!r}, which is not a Message-ID")
        ids.append(f"<{bare}>")
    return tuple(dict.fromkeys(ids))


def _extra(data: Mapping[str, Any]) -> dict[str, Any]:
    extra = {str(k): v for k, v in data.items() if k not in KNOWN_KEYS}
    try:
        encoded = json.dumps(extra)
    except (TypeError, ValueError) as exc:
        raise TicketError(f"extra keys cannot be stored: {exc}") from exc
    if len(encoded) > 64 * 1024:
        raise TicketError("the extra keys are larger than 64 KiB")
    return extra


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """The ticket in the contract's shape (times ISO 8601 UTC), ``extra`` merged in."""
    shaped: dict[str, Any] = dict(ticket.extra)
    shaped |= {
        "id": ticket.id,
        "subject": ticket.subject,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "team": ticket.team,
        "assignee": ticket.assignee,
        "requester": ticket.requester,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "solved_at": iso(ticket.solved_at) if ticket.solved_at is not None else None,
        "message_ids": list(ticket.message_ids),
        "source": ticket.source,
    }
    return shaped
