"""What a sent message's signals say about a person, at a given time: its state.

    bounced       it bounced for good (a delay notice is not a bounce: the mail still tries)
    away          an out-of-office reply came back whose return date is still ahead
    replied       the customer wrote back
    clicked       a person followed a link
    opened        a person opened it (or sent a read receipt)
    machine_only  only machines touched it (Apple's proxy, scanners), or hits nobody can
                  tell from a machine's: we cannot tell whether anyone read it
    not_opened    nothing at all came back

Only ``human`` verdicts are signs of a person: an Apple-proxy fetch or a scanner's click
never is, and neither is a hit judged ``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from inkling.model import Agent, Event, EventKind, MessageRecord, Verdict
from inkling.store import LastHit, Signal, Thread

#: Opens by a person closer together than this are one occasion (a mail looked at, closed
#: and looked at again a minute later was read once).
OCCASION_GAP = 30 * 60


class State(StrEnum):
    BOUNCED = "bounced"
    AWAY = "away"
    REPLIED = "replied"
    CLICKED = "clicked"
    OPENED = "opened"
    MACHINE_ONLY = "machine_only"
    NOT_OPENED = "not_opened"


@dataclass(frozen=True, slots=True)
class Bounce:
    ts: float
    final: bool
    hard: bool
    owner: str
    reason: str
    status: str


@dataclass(slots=True)
class Signs:
    """A message's signals reduced to what readings and the playbook decide on."""

    sent_at: float
    occasions: list[float] = field(default_factory=list)  # first open of each occasion
    clicks: list[float] = field(default_factory=list)  # a person's clicks
    replies: list[float] = field(default_factory=list)
    bounce: Bounce | None = None  # the latest final bounce
    away_until: date | None = None  # the latest out-of-office reply's return date
    away_since: float | None = None
    last_other_hit: LastHit | None = None  # the latest hit not judged a person's
    #: How the best-tracked copy was tracked ("full", "clicks", "none"), and why less.
    tracking: str = "full"
    untracked: str | None = None

    @property
    def last_click(self) -> float | None:
        return self.clicks[-1] if self.clicks else None

    @property
    def last_open(self) -> float | None:
        return self.occasions[-1] if self.occasions else None

    @property
    def last_sign(self) -> float | None:
        """When a person last showed: an open, click, read receipt or reply."""
        seen = [t for t in (self.last_click, self.last_open) if t is not None]
        seen += self.replies[-1:]
        return max(seen) if seen else None

    def away_on(self, day: date) -> bool:
        return self.away_until is not None and self.away_until > day

    def state(self, today: date) -> State:
        """The state on ``today`` (the day, in the team's zone, of the reading's time)."""
        if self.bounce is not None:
            return State.BOUNCED
        if self.away_on(today):
            return State.AWAY
        if self.replies:
            return State.REPLIED
        if self.clicks:
            return State.CLICKED
        if self.occasions:
            return State.OPENED
        if self.last_other_hit is not None:
            return State.MACHINE_ONLY
        return State.NOT_OPENED


def thread_of(copies: Sequence[MessageRecord], events: Sequence[Event]) -> Thread:
    """A thread from all the events of its copies (a reading has them all): the signal
    events, and the latest hit that was not a person's."""
    ordered = sorted(events, key=lambda e: e.ts)
    signals = [
        Signal(e.kind, e.ts, e.verdict, e.details)
        for e in ordered
        if e.verdict == Verdict.HUMAN or not e.is_hit
    ]
    others = [e for e in ordered if e.is_hit and e.verdict != Verdict.HUMAN]
    last = LastHit(others[-1].verdict, others[-1].agent) if others else None
    return Thread(list(copies), signals, last)


def signs_of(thread: Thread) -> Signs:
    """The signs in a thread's signal events (they come sorted by time)."""
    signs = Signs(sent_at=float(thread.sent_at), last_other_hit=thread.last_other_hit)
    best = min(thread.copies, key=lambda c: _TRACKED_ORDER.get(c.tracking, 0))
    signs.tracking, signs.untracked = best.tracking, best.untracked
    signs.replies += thread.replies_elsewhere
    if not thread.signals:
        return signs
    last_human_open: float | None = None
    for event in thread.signals:
        if _is_persons_open(event):
            if last_human_open is None or event.ts - last_human_open >= OCCASION_GAP:
                signs.occasions.append(event.ts)
            last_human_open = event.ts
        elif event.kind == EventKind.CLICK and event.verdict == Verdict.HUMAN:
            signs.clicks.append(event.ts)
        elif event.kind == EventKind.REPLY:
            signs.replies.append(event.ts)
            signs.replies.sort()
        elif event.kind == EventKind.BOUNCE:
            _bounced(signs, event)
        elif event.kind == EventKind.AUTOREPLY:
            _away(signs, event)
    return signs


def _is_persons_open(event: Signal) -> bool:
    return event.verdict == Verdict.HUMAN and event.kind in (EventKind.OPEN, EventKind.READ_RECEIPT)


def _bounced(signs: Signs, event: Signal) -> None:
    details = event.details
    final = _flag(details.get("final"), default=details.get("class") == "hard")
    if not final:
        return  # a delay notice: the mail system still tries
    signs.bounce = Bounce(
        ts=event.ts,
        final=True,
        hard=details.get("class") == "hard",
        owner=str(details.get("owner") or ""),
        reason=str(details.get("reason") or "undefined"),
        status=str(details.get("status") or ""),
    )


def _away(signs: Signs, event: Signal) -> None:
    until = event.details.get("until")
    if not until:
        return
    try:
        signs.away_until = date.fromisoformat(str(until)[:10])
    except ValueError:
        return
    signs.away_since = event.ts


def _flag(value: object, *, default: bool) -> bool:
    """A stored yes/no: details are text, so "false" is False."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("false", "0", "no")


#: Who a machine was, for a sentence: "Apple's proxy fetched the images".
MACHINE_DEEDS = {
    Agent.APPLE_MPP: "Apple's proxy fetched the images",
    Agent.GMAIL_PREFETCH: "Gmail fetched the images at delivery",
    Agent.YAHOO_PROXY: "Yahoo's proxy fetched the images",
    Agent.PREFETCH: "a mail program prefetched the images",
    Agent.SAFELINKS: "only Microsoft Defender checked the links",
    Agent.PROOFPOINT: "only Proofpoint checked the links",
    Agent.MIMECAST: "only Mimecast checked the links",
    Agent.BARRACUDA: "only Barracuda checked the links",
    Agent.SCANNER: "only a security scanner checked the links",
    Agent.LINK_PREVIEW: "only a chat app previewed a link",
    Agent.SCRIPT: "only a program fetched it",
}


_TRACKED_ORDER = {"full": 0, "clicks": 1, "none": 2}


def what_machines_did(signs: Signs) -> str:
    """Why no sign of a person is not the same as nothing: what did touch the message, or
    that it was not (fully) tracked, so silence says less."""
    last = signs.last_other_hit
    if last is None and signs.tracking == "none":
        return f"it went out untracked ({signs.untracked or 'policy'}), so silence says nothing"
    if last is None and signs.tracking == "clicks":
        return "nothing was clicked (it has no pixel, so opens are not seen)"
    if last is None:
        return "nothing was opened or clicked"
    if last.verdict == Verdict.UNKNOWN:
        return "the hits so far could be a person or a machine, so they do not count"
    deed = MACHINE_DEEDS.get(last.agent) if last.agent else None
    return f"{deed or 'only machines touched it'}, which says nothing about reading"
