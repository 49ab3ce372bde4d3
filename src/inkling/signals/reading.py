"""The reading of one message: opens and clicks split by verdict, and a sentence.

The sentence (signals/sentence.py) never claims more than the verdicts do: hits nobody
has been able to tell apart from a machine are said to be so, not counted as reads.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def state(self) -> str:
        """The contract's state at the reading's time (signals/state.py)."""
        return signs_of(thread_of([self.message], self.events)).state(self.today).value

    @property
    def today(self) -> date:
        return datetime.now(UTC).date()

    @property
    def sentence(self) -> str:
        said = sentence(self.events, self.user_agents)
        if self.message.untracked:
            return f"Not tracked ({self.message.untracked}). {said}"
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
            "untracked": self.message.untracked,
            "sent_at": iso(self.message.sent_at),
            "state": self.state,
            "sentence": self.sentence,
            "opens": self.opens,
            "clicks": self.clicks,
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
