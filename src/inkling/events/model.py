"""The one event type every signal becomes, with a closed vocabulary of kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    """Hits on the tracker (open, click) and what came back by mail."""

    OPEN = "open"
    CLICK = "click"
    REPLY = "reply"
    READ_RECEIPT = "mdn"
    AUTOREPLY = "autoreply"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    DELIVERED = "delivered"


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
    #: The whole address, for the classifier only (published ranges can be narrower than
    #: the truncated ``ip``); never stored.
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """A stored event judged again, because later hits of its message said more.

    The event is the one of ``message`` at ``ts`` of ``kind``; the change is kept as
    history beside the event's new verdict.
    """

    message: str
    ts: float
    kind: EventKind
    verdict: Verdict
    agent: str | None
    reasons: list[str]
    changed_at: float
