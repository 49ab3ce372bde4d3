"""What the classifier judges (a hit) and what it answers (a judgement).

A hit is one fetch of the pixel or one follow of a link, with the evidence that came with
it. Hits come from the live tracker or from a JSON line (``inkling classify``); the field
names of the JSON form are the contract in DESIGN.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inkling.errors import HitError
from inkling.model import Agent, Verdict

KINDS = ("open", "click")


@dataclass(slots=True)
class Hit:
    message: str
    kind: str  # "open" or "click"
    ts: float
    sent_at: float | None = None
    ip: str | None = None
    ua: str | None = None
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    link: int | None = None
    links_total: int | None = None
    honeypot: bool = False

    @classmethod
    def from_json(cls, data: Any) -> Hit:
        """A hit from one decoded JSON line; raises HitError naming the bad field."""
        if not isinstance(data, dict):
            raise HitError("a hit must be a JSON object")
        get = data.get
        message, kind = _text(get("message"), "message"), get("kind")
        if not message or _CONTROL.search(message):
            raise HitError("'message' must be a non-empty string with no control characters")
        if kind not in KINDS:
            raise HitError('\'kind\' must be "open" or "click"')
        ts = _number(get("ts"), "ts")
        if ts is None:
            raise HitError("'ts' is required (seconds since 1970)")
        return cls(
            message=message,
            kind=kind,
            ts=ts,
            sent_at=_number(get("sent_at"), "sent_at"),
            ip=_text(get("ip"), "ip"),
            ua=_text(get("ua"), "ua"),
            method=(_text(get("method"), "method") or "GET").upper(),
            headers=_headers(get("headers")),
            link=_index(get("link"), "link"),
            links_total=_index(get("links_total"), "links_total"),
            honeypot=_flag(get("honeypot"), "honeypot"),
        )

    @property
    def since_send(self) -> float | None:
        """Seconds from sending to this hit, when the send time is known."""
        return None if self.sent_at is None else self.ts - self.sent_at


@dataclass(frozen=True, slots=True)
class Judgement:
    """Who made a hit: ``verdict`` human, machine or unknown; ``agent`` what it was;
    ``reasons`` in words a support agent can read, and for each where it points
    (``leanings``: "machine", "person" or "neither"). Immutable: one is shared by every
    hit that had the same evidence."""

    verdict: Verdict
    agent: Agent | None
    reasons: tuple[str, ...]
    leanings: tuple[str, ...] = ()

    def as_json(self, message: str) -> dict[str, Any]:
        return {
            "message": message,
            "verdict": self.verdict,
            "agent": self.agent,
            "reasons": list(self.reasons),
        }


def _number(value: Any, name: str) -> float | None:
    """Seconds since 1970, given as a number or as an ISO 8601 time with its offset, and
    within the years 1 to 9999 (what a time can be written as): ``1e400`` is infinity,
    and ``true`` is not a number, though Python's ``json`` and ``bool`` say otherwise."""
    if value is None:
        return None
    seconds: float | None = None
    if type(value) in (int, float):
        seconds = value
    elif type(value) is str:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                seconds = moment.timestamp()
    if seconds is None:
        raise HitError(
            f"'{name}' must be seconds since 1970 or an ISO 8601 time with an offset, "
            f"like 2026-11-27T09:14:03Z"
        )
    if not _EARLIEST <= seconds <= _LATEST:  # False for NaN too
        raise HitError(f"'{name}' must be a time between the years 1 and 9999")
    return float(seconds)


#: The first and last second of the years 1 to 9999, in seconds since 1970.
_EARLIEST = -62_135_596_800
_LATEST = 253_402_300_799
#: C0 controls, DEL, C1 controls and lone surrogates: not in an id, and a surrogate is
#: not text at all (it cannot even be written back out as UTF-8).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _index(value: Any, name: str) -> int | None:
    if value is None or (type(value) is int and value >= 0):
        return value
    raise HitError(f"'{name}' must be a whole number >= 0")


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise HitError(f"'{name}' must be a string")
    if _SURROGATE.search(value):
        raise HitError(f"'{name}' holds half of a UTF-16 surrogate pair, which is not text")
    return value


def _flag(value: Any, name: str) -> bool:
    if value is None or type(value) is bool:
        return value is True
    raise HitError(f"'{name}' must be true or false")


def _headers(value: Any) -> dict[str, str]:
    """The request's headers, names in lowercase; every value a string (a number or
    null is not what a client sent)."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise HitError("'headers' must be an object")
    headers: dict[str, str] = {}
    for name, text in value.items():
        if type(text) is not str:
            raise HitError("'headers' values must be strings")
        _text(name, "headers")
        headers[name.lower()] = _text(text, "headers") or ""
    return headers
