"""The reading of one message: opens and clicks split by verdict, and a sentence.

The sentence never claims more than the verdicts do: hits nobody has been able to tell
apart from a machine are said to be unattributed, not reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inkling.events.model import Event, EventKind, Verdict
from inkling.store import MessageRecord, Store

VERDICTS = (Verdict.HUMAN, Verdict.MACHINE, Verdict.UNKNOWN)


@dataclass
class Reading:
    message: MessageRecord
    opens: dict[str, int]
    clicks: dict[str, int]
    events: list[Event]
    links: list[str]

    @property
    def state(self) -> str:
        if self.clicks[Verdict.HUMAN] or self.opens[Verdict.HUMAN]:
            return "engaged"
        if self.clicks["total"] or self.opens["total"]:
            return "activity"
        return "no_activity"

    @property
    def sentence(self) -> str:
        parts = [_phrase("open", self.opens), _phrase("click", self.clicks)]
        said = [p for p in parts if p]
        if not said:
            return "No opens or clicks recorded yet."
        return "; ".join(said) + "."

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message.message_id,
            "id": self.message.id,
            "ticket": self.message.ticket,
            "workflow": self.message.workflow,
            "sent_at": _iso(self.message.sent_at),
            "state": self.state,
            "sentence": self.sentence,
            "opens": self.opens,
            "clicks": self.clicks,
            "events": [self._event_json(e) for e in self.events],
        }

    def _event_json(self, event: Event) -> dict[str, Any]:
        url = (
            self.links[event.link]
            if event.link is not None and event.link < len(self.links)
            else None
        )
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
        }


def read_message(store: Store, key: str, *, limit: int | None = None) -> Reading:
    """The reading of the message whose Message-ID or Inkling id is ``key``."""
    message = store.find_message(key)
    counts = store.event_counts(message.id)
    return Reading(
        message=message,
        opens=_split(counts, EventKind.OPEN),
        clicks=_split(counts, EventKind.CLICK),
        events=store.events_for(message.id, limit=limit),
        links=store.message_links(message.id),
    )


def _split(counts: dict[tuple[str, str], int], kind: EventKind) -> dict[str, int]:
    split = {v.value: counts.get((kind.value, v.value), 0) for v in VERDICTS}
    return {"total": sum(split.values()), **split}


def _phrase(kind: str, counts: dict[str, int]) -> str:
    if not counts["total"]:
        return ""
    pieces = []
    if counts["human"]:
        pieces.append(f"{_count(counts['human'], kind)} by a person")
    if counts["machine"]:
        pieces.append(f"{_count(counts['machine'], kind)} by machines (say nothing about reading)")
    if counts["unknown"]:
        pieces.append(
            f"{_count(counts['unknown'], kind)} not yet attributed to a person or a machine"
        )
    return ", ".join(pieces)


def _count(n: int, kind: str) -> str:
    return f"{n} {kind}" + ("" if n == 1 else "s")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
