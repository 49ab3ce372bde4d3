"""The reading of one message: opens and clicks split by verdict, and a sentence.

The sentence (signals/sentence.py) never claims more than the verdicts do: hits nobody
has been able to tell apart from a machine are said to be so, not counted as reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from inkling.classify.signatures import UserAgents
from inkling.model import Event, EventKind, MessageRecord, Verdict, VerdictChange
from inkling.signals.sentence import sentence
from inkling.signals.state import signs_of, thread_of
from inkling.store import Store
from inkling.times import iso
from inkling.tokens import HONEYPOT_LINK

VERDICTS = (Verdict.HUMAN, Verdict.MACHINE, Verdict.UNKNOWN)


@dataclass
class Reading:
    message: MessageRecord
    opens: dict[str, int]
    clicks: dict[str, int]
    events: list[Event]
    links: list[str]
    changes: list[VerdictChange]
    user_agents: UserAgents
    limit: int | None = None  # of events listed; the counts and sentence cover them all
    #: The counts purged events left (by kind and verdict): retention keeps only those.
    expired: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """The contract's state at the reading's time (signals/state.py)."""
        return signs_of(thread_of([self.message], self.events)).state(self.today).value

    @property
    def today(self) -> date:
        return datetime.now(UTC).date()

    @property
    def sentence(self) -> str:
        said = _with_expired(sentence(self.events, self.user_agents), self)
        why = self.message.untracked
        if self.message.tracking == "clicks":
            return f"Links tracked, no pixel ({why or 'policy'}): opens are not seen. {said}"
        if why:
            return f"Not tracked ({why}). {said}"
        return said

    def as_json(self) -> dict[str, Any]:
        history: dict[str, list[dict[str, Any]]] = {}
        for c in self.changes:
            history.setdefault(c.event, []).append(_change_json(c))
        return {
            "message_id": self.message.message_id,
            "id": self.message.id,
            "ticket": self.message.ticket,
            "workflow": self.message.workflow,
            "recipient": self.message.recipient or None,
            "tracking": self.message.tracking,
            "untracked": self.message.untracked,
            "sent_at": iso(self.message.sent_at),
            "state": self.state,
            "sentence": self.sentence,
            "opens": self.opens,
            "clicks": self.clicks,
            "expired": _expired_json(self.expired),
            "events": [self._event_json(e, history) for e in self.events[: self.limit]],
        }

    def _event_json(self, event: Event, history: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        url = (
            self.links[event.link]
            if event.link is not None and event.link < len(self.links)
            else None
        )
        return {
            "id": event.id,
            "kind": event.kind.value,
            "ts": iso(event.ts),
            "link": event.link,
            "url": url,
            "method": event.method,
            "ip": event.ip,
            "user_agent": event.user_agent,
            "evidence": event.evidence,
            "details": event.details,
            "verdict": event.verdict.value,
            "agent": event.agent,
            "reasons": event.reasons,
            "why": _why(event),
            "honeypot": event.link == HONEYPOT_LINK,
            "history": history.get(event.id, []),
        }


def read_message(
    store: Store, key: str, *, limit: int | None = None, user_agents: UserAgents | None = None
) -> Reading:
    """The reading of the message whose Message-ID or Inkling id is ``key``.

    The sentence covers every event; ``limit`` only shortens the list of events shown.
    """
    message = store.messages.find(key)
    counts = store.events.counts(message.id)
    return Reading(
        message=message,
        opens=_split(counts, EventKind.OPEN),
        clicks=_split(counts, EventKind.CLICK),
        events=store.events.for_message(message.id),
        limit=limit,
        links=store.messages.links(message.id),
        changes=store.events.changes(message.id),
        user_agents=user_agents or UserAgents.load(),
        expired=store.retention.tallies(message.id),
    )


def _why(event: Event) -> list[dict[str, str | None]]:
    """Each reason with where it points ("machine", "person", "neither"; None when the
    event was judged before reasons were weighed)."""
    leanings: list[str | None] = list(event.leanings)
    leanings += [None] * (len(event.reasons) - len(leanings))
    return [{"reason": r, "points_to": p} for r, p in zip(event.reasons, leanings, strict=False)]


def _change_json(c: VerdictChange) -> dict[str, Any]:
    """One verdict change: when, and the verdict and agent before and after."""
    return {
        "changed_at": iso(c.changed_at),
        "from": {"verdict": c.previous.value, "agent": c.previous_agent},
        "to": {"verdict": c.verdict.value, "agent": c.agent},
        "verdict": c.verdict.value,
        "agent": c.agent,
    }


def _split(counts: dict[tuple[str, str], int], kind: EventKind) -> dict[str, int]:
    split = {v.value: counts.get((kind.value, v.value), 0) for v in VERDICTS}
    return {"total": sum(split.values()), **split}


def _expired_json(counts: dict[tuple[str, str], int]) -> dict[str, Any]:
    """Expired opens and clicks split by verdict as ``opens`` and ``clicks`` are, and
    the mail events by kind."""
    hits = (EventKind.OPEN.value, EventKind.CLICK.value)
    other: dict[str, int] = {}
    for (kind, _verdict), n in counts.items():
        if kind not in hits:
            other[kind] = other.get(kind, 0) + n
    return {
        "opens": _split(counts, EventKind.OPEN),
        "clicks": _split(counts, EventKind.CLICK),
        "other": dict(sorted(other.items())),
    }


def _with_expired(said: str, reading: Reading) -> str:
    """The sentence, followed by what expired events left (in its place when no event
    is left: "no opens yet" would be untrue)."""
    if not reading.expired:
        return said
    told = _expired_json(reading.expired)
    opens, clicks = told["opens"], told["clicks"]
    parts = [
        f"{_plural(opens['total'], 'open')} ({opens['human']} by a person)",
        f"{_plural(clicks['total'], 'click')} ({clicks['human']} by a person)",
    ]
    parts += [_plural(n, kind.replace("_", " ")) for kind, n in told["other"].items()]
    kept = f"Older events expired; their counts are kept: {', '.join(parts)}."
    return f"{said} {kept}" if reading.events else kept


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
