"""One line of the ``inkling`` import format, checked field by field (DESIGN.md, "Events
import").

A ``sent`` line becomes a :class:`SentLine` (a copy sent elsewhere, to register); every other
type an :class:`EventLine` that attaches to a registered copy. A field that is present but
wrong is an :class:`IntakeError` naming it, never a silent default. Lines converted from a
provider's payload (``formats.py``) come through here too, with their :class:`Origin`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from inkling.errors import InklingError, IntakeError
from inkling.model import EventId, EventKind
from inkling.providers.bounces import CLASSES, OWNERS, bounce_facts
from inkling.times import parse_time

#: The `inkling` line types and the event kind each becomes (``sent`` registers a copy).
TYPES: dict[str, EventKind | None] = {
    "sent": None,
    "open": EventKind.OPEN,
    "click": EventKind.CLICK,
    "reply": EventKind.REPLY,
    "autoreply": EventKind.AUTOREPLY,
    "bounce": EventKind.BOUNCE,
    "mdn": EventKind.READ_RECEIPT,
    "complaint": EventKind.COMPLAINT,
    "delivered": EventKind.DELIVERED,
}
#: The fields of the `inkling` format (DESIGN.md), and the bounce facts a line may give.
KNOWN_KEYS = frozenset(
    {"type", "message", "recipient", "ts", "ip", "ua", "method", "headers", "url", "link",
     "ticket", "subject", "workflow", "links", "until", "disposition", "status", "reason",
     "class", "final", "owner", "diagnostic"}
)  # fmt: skip
MAX_TEXT = 2000
MAX_LINKS = 1000
#: The first and last second of the years 1 to 9999.
_EARLIEST, _LATEST = -62_135_596_800, 253_402_300_799
#: C0 and C1 controls, DEL and lone surrogates: never part of an id or an address.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# Not frozen: an import makes one of each a line, and a frozen dataclass's __init__ sets
# each field through object.__setattr__ (measured: a third of the cost of making them).
@dataclass(slots=True)
class Origin:
    """Where a line came from: ``source`` (``inkling``, ``sendgrid``, ...), ``key`` (the
    provider's event id, or the payload itself as canonical JSON: what makes an import
    idempotent), the payload as JSON text, and the provider's own machine flag."""

    source: str
    key: str
    raw: str
    bot: str | None = None

    @classmethod
    def of_line(cls, data: Mapping[str, Any]) -> Origin:
        """A line of the `inkling` format, keyed by its canonical JSON (the same whether it
        came as a line or in an array). Its fields are the event's, so it is kept as
        ``raw`` only when it carries more (keys of its own, such as a helpdesk's)."""
        canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
        return cls("inkling", canonical, canonical if data.keys() - KNOWN_KEYS else "")


@dataclass(slots=True)
class SentLine:
    message: str
    recipient: str
    ts: float
    ticket: str | None = None
    subject: str | None = None
    workflow: str | None = None
    links: tuple[str, ...] = ()


@dataclass(slots=True)
class EventLine:
    kind: EventKind
    message: str
    ts: float
    origin: Origin
    recipient: str | None = None
    ip: str | None = None
    ua: str | None = None
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    link: int | None = None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def event_id(self) -> EventId:
        """The same for the same line or provider event however often it is imported."""
        seed = f"{self.origin.source}\x00{self.kind}\x00{self.origin.key}".encode()
        return EventId(hashlib.sha256(seed, usedforsecurity=False).hexdigest()[:24])


def parse_line(data: Any, origin: Origin | None = None) -> SentLine | EventLine:
    """The line ``data`` (one decoded JSON object); IntakeError saying what is wrong."""
    if not isinstance(data, dict):
        raise IntakeError("a line must be a JSON object")
    kind_name = data.get("type")
    if kind_name not in TYPES:
        raise IntakeError(f"'type' must be one of {', '.join(TYPES)}")
    message = _text(data, "message", required=True, single=True)
    assert message is not None
    ts = _time(data, "ts")
    if kind_name == "sent":
        return _sent(data, message, ts)
    kind = TYPES[kind_name]
    assert kind is not None
    return EventLine(
        kind=kind,
        message=message,
        ts=ts,
        origin=origin or Origin.of_line(data),
        recipient=_address(data),
        ip=_text(data, "ip", single=True),
        ua=_text(data, "ua"),
        method=(_text(data, "method", single=True) or "GET").upper()[:8],
        headers=_headers(data.get("headers")),
        url=_text(data, "url", single=True),
        link=_index(data.get("link")),
        details=_details(kind, data),
    )


def _sent(data: Mapping[str, Any], message: str, ts: float) -> SentLine:
    links = data.get("links", [])
    if type(links) is not list or not all(type(u) is str and u for u in links):
        raise IntakeError("'links' must be a list of URLs (strings)")
    if len(links) > MAX_LINKS:
        raise IntakeError(f"'links' holds {len(links)} URLs; at most {MAX_LINKS}")
    return SentLine(
        message=message,
        recipient=_address(data) or "",
        ts=ts,
        ticket=_text(data, "ticket", single=True),
        subject=_text(data, "subject"),
        workflow=_text(data, "workflow", single=True),
        links=tuple(links),
    )


def _details(kind: EventKind, data: Mapping[str, Any]) -> dict[str, str]:
    """What a mail event says (bounce facts, return date, disposition)."""
    if kind is EventKind.BOUNCE:
        return _bounce(data)
    if kind is EventKind.AUTOREPLY:
        until = _text(data, "until", single=True)
        if until is None:
            return {}
        try:
            date.fromisoformat(until)
        except ValueError:
            raise IntakeError("'until' must be a date, like 2026-12-14") from None
        return {"until": until}
    if kind is EventKind.READ_RECEIPT:
        return {"disposition": _text(data, "disposition", single=True) or "displayed"}
    return {}


def _bounce(data: Mapping[str, Any]) -> dict[str, str]:
    final = data.get("final")
    if final is not None and type(final) is not bool:
        raise IntakeError("'final' must be true or false")
    chosen = {name: _text(data, name, single=True) for name in ("class", "owner")}
    if chosen["class"] not in (None, *CLASSES):
        raise IntakeError(f"'class' must be one of {', '.join(CLASSES)}")
    if chosen["owner"] not in (None, *OWNERS):
        raise IntakeError(f"'owner' must be one of {', '.join(OWNERS)}")
    facts = bounce_facts(
        status=_text(data, "status", single=True),
        reason=_text(data, "reason", single=True),
        bounce_class=chosen["class"],
        final=final,
        owner=chosen["owner"],
    )
    details = facts.as_details()
    said = _text(data, "diagnostic")
    if said:
        details["diagnostic"] = said
    return details


def _address(data: Mapping[str, Any]) -> str | None:
    recipient = _text(data, "recipient", single=True)
    return recipient.strip().lower() if recipient else None


def _text(
    data: Mapping[str, Any], name: str, *, required: bool = False, single: bool = False
) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise IntakeError(f"'{name}' is required")
        return None
    if type(value) is not str:
        raise IntakeError(f"'{name}' must be a string")
    if len(value) > MAX_TEXT:
        raise IntakeError(f"'{name}' is {len(value)} characters long; at most {MAX_TEXT}")
    # a printable text holds no control character and no lone surrogate: checked in C
    bad = None if value.isprintable() else (_CONTROL if single else _SURROGATE).search(value)
    if bad:
        raise IntakeError(f"'{name}' holds the control character U+{ord(bad.group()):04X}")
    return value


def _time(data: Mapping[str, Any], name: str) -> float:
    value = data.get(name)
    if value is None:
        raise IntakeError(f"'{name}' is required (ISO 8601 with an offset, or epoch seconds)")
    if type(value) in (int, float):
        seconds = float(value)
    elif type(value) is str:
        try:
            seconds = parse_time(value, f"'{name}'")
        except InklingError as exc:
            raise IntakeError(str(exc)) from None
    else:
        raise IntakeError(f"'{name}' must be ISO 8601 with an offset or epoch seconds")
    if not math.isfinite(seconds) or not _EARLIEST <= seconds <= _LATEST:
        raise IntakeError(f"'{name}' must be a time between the years 1 and 9999")
    return seconds


def _index(value: Any) -> int | None:
    if value is None or (type(value) is int and 0 <= value < 0xFFFF):
        return value
    raise IntakeError("'link' must be a whole number >= 0 (the link's index)")


def _headers(value: Any) -> dict[str, str]:
    """Request headers kept as evidence: names in lowercase, values strings."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise IntakeError("'headers' must be an object")
    headers: dict[str, str] = {}
    for name, text in value.items():
        if type(text) is not str or _SURROGATE.search(name + text):
            raise IntakeError("'headers' values must be strings")
        headers[name.lower()[:100]] = text[:512]
    return headers
