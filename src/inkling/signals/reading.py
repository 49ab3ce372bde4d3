"""The reading of one message: opens and clicks split by verdict, and a sentence.

The sentence (signals/sentence.py) never claims more than the verdicts do: hits nobody
has been able to tell apart from a machine are said to be so, not counted as reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inkling.classify.signatures import UserAgents
from inkling.events.model import Event, EventKind, Verdict, VerdictChange
from inkling.signals.sentence import sentence
from inkling.store import MessageRecord, Store
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
        """engaged (a person did something), bounced (a hard bounce and no person),
        activity (only machines or unknowns so far) or no_activity."""
        if any(e.verdict == Verdict.HUMAN for e in self.events):
            return "engaged"
        if any(
            e.kind == EventKind.BOUNCE and e.headers.get("class") == "hard" for e in self.events
        ):
            return "bounced"
        if self.events:
            return "activity"
        return "no_activity"

    @property
    def sentence(self) -> str:
        said = sentence(self.events, self.user_agents)
        if self.message.untracked:
            return f"Not tracked ({self.message.untracked}). {said}"
        return said

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message.message_id,
            "id": self.message.id,
            "ticket": self.message.ticket,
            "workflow": self.message.workflow,
            "recipient": self.message.recipient or None,
            "untracked": self.message.untracked,
            "sent_at": _iso(self.message.sent_at),
            "state": self.state,
            "sentence": self.sentence,
            "opens": self.opens,
            "clicks": self.clicks,
            "events": [self._event_json(e) for e in self.events[: self.limit]],
        }

    def _event_json(self, event: Event) -> dict[str, Any]:
        url = (
            self.links[event.link]
            if event.link is not None and event.link < len(self.links)
            else None
        )
        history = [
            {"changed_at": _iso(c.changed_at), "verdict": c.verdict.value, "agent": c.agent}
            for c in self.changes
            if (c.ts, c.kind) == (event.ts, event.kind)
        ]
        return {
            "kind": event.kind.value,
            "ts": _iso(event.ts),
            "link": event.link,
            "url": url,
            "method": event.method,
            "ip": event.ip,
            "user_agent": event.user_agent,
            "headers": event.headers,
            "verdict": event.verdict.value,
            "agent": event.agent,
            "reasons": event.reasons,
            "honeypot": event.link == HONEYPOT_LINK,
            "history": history,
        }


def read_message(
    store: Store, key: str, *, limit: int | None = None, user_agents: UserAgents | None = None
) -> Reading:
    """The reading of the message whose Message-ID or Inkling id is ``key``.

    The sentence covers every event; ``limit`` only shortens the list of events shown.
    """
    message = store.find_message(key)
    counts = store.event_counts(message.id)
    return Reading(
        message=message,
        opens=_split(counts, EventKind.OPEN),
        clicks=_split(counts, EventKind.CLICK),
        events=store.events_for(message.id),
        limit=limit,
        links=store.message_links(message.id),
        changes=store.verdict_changes(message.id),
        user_agents=user_agents or UserAgents.load(),
    )


def _split(counts: dict[tuple[str, str], int], kind: EventKind) -> dict[str, int]:
    split = {v.value: counts.get((kind.value, v.value), 0) for v in VERDICTS}
    return {"total": sum(split.values()), **split}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
