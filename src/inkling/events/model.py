"""The one event type every signal becomes, with a closed vocabulary of kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    OPEN = "open"
    CLICK = "click"


class Verdict(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"


@dataclass(slots=True)
class Event:
    """One hit on the tracker, with the evidence kept as it arrived.

    ``headers`` holds only the request headers that matter for telling people from
    machines (see ``tracker.app.EVIDENCE_HEADERS``); ``ip`` is already truncated unless the
    operator chose to keep full addresses.
    """

    message: str
    kind: EventKind
    ts: float
    method: str
    sent_at: int | None = None
    link: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    verdict: Verdict = Verdict.UNKNOWN
    agent: str | None = None
    reasons: list[str] = field(default_factory=list)
