"""The classifier on live hits: each new hit judged at once, its message judged again.

The recorder hands every batch of events to :meth:`LiveJudge.judge` before writing it.
Each event gets its verdict from its own evidence and from the recent hits of its message
held in memory; an earlier hit whose verdict changes because of the new ones comes back as
a :class:`VerdictChange`, which the store applies and keeps as history.

Memory is bounded: the most recent ``max_messages`` messages, their last
``max_hits`` hits each. After a restart a message's sequence starts again from its next
hit (its stored verdicts stand).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from inkling.classify.classifier import Classifier
from inkling.classify.evidence import Facts
from inkling.classify.hit import Hit
from inkling.classify.sequence import HONEYPOT_WINDOW, MACHINE_AT
from inkling.events.model import Event, Verdict, VerdictChange
from inkling.tokens import HONEYPOT_LINK

MAX_MESSAGES = 20_000
MAX_HITS = 64  # per message: the sequence rules look back minutes, not weeks


class LiveJudge:
    def __init__(
        self,
        classifier: Classifier,
        *,
        max_messages: int = MAX_MESSAGES,
        max_hits: int = MAX_HITS,
    ) -> None:
        self._classifier = classifier
        self._max_messages = max_messages
        self._max_hits = max_hits
        # message -> its recent hits: (facts, the event, the verdict and agent last stored)
        self._recent: OrderedDict[str, list[_Seen]] = OrderedDict()

    def judge(self, batch: Sequence[Event], now: float) -> list[VerdictChange]:
        """Set the verdict of every event in ``batch``; return the changes to earlier
        events of the same messages."""
        touched: dict[str, list[_Seen]] = {}
        stirring: set[str] = set()  # messages whose earlier verdicts the batch may change
        for event in batch:
            seen = self._sequence(event.message)
            facts = self._classifier.facts(_hit(event))
            seen.append(_Seen(facts, event))
            if len(seen) > self._max_hits:
                del seen[: len(seen) - self._max_hits]
            touched[event.message] = seen
            if _may_change_others(facts):
                stirring.add(event.message)
        changes: list[VerdictChange] = []
        for message, seen in touched.items():
            if message in stirring:
                window, wanted = seen, range(len(seen))
            else:
                window = _context_of_machine_opens(seen)
                wanted = range(len(window) - sum(1 for s in window if not s.stored), len(window))
            judged = self._classifier.judge_some([s.facts for s in window], wanted)
            for i, judgement in judged.items():
                s = window[i]
                verdict = Verdict(judgement.verdict)
                if s.stored and (verdict, judgement.agent) != (s.event.verdict, s.event.agent):
                    changes.append(
                        _change(s.event, verdict, judgement.agent, judgement.reasons, now)
                    )
                s.event.verdict, s.event.agent = verdict, judgement.agent
                s.event.reasons = list(judgement.reasons)
        for seen in touched.values():
            for s in seen:
                s.stored = True
        return changes

    def _sequence(self, message: str) -> list[_Seen]:
        seen = self._recent.get(message)
        if seen is None:
            seen = self._recent[message] = []
            if len(self._recent) > self._max_messages:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(message)
        return seen


class _Seen:
    __slots__ = ("event", "facts", "stored")

    def __init__(self, facts: Facts, event: Event) -> None:
        self.facts = facts
        self.event = event
        self.stored = False  # written with its verdict: later changes are history


def _may_change_others(facts: Facts) -> bool:
    """Whether a new hit can change the verdict of its message's earlier hits: a click
    (bursts, sweeps), a honeypot hit (its burst), or a hit that may be a person's (it
    upgrades uncertain hits before it). A plain machine open changes nothing earlier."""
    return facts.hit.kind != "open" or facts.hit.honeypot or facts.score < MACHINE_AT


def _context_of_machine_opens(seen: list[_Seen]) -> list[_Seen]:
    """What new opens that are machines by themselves need to be judged with: the honeypot
    hits just before them (the only earlier hits that add to an open's evidence), then the
    new hits themselves, last."""
    new = [s for s in seen if not s.stored]
    since = min(s.facts.hit.ts for s in new) - HONEYPOT_WINDOW
    traps = [s for s in seen if s.stored and s.facts.hit.honeypot and s.facts.hit.ts >= since]
    return traps + new


def _hit(event: Event) -> Hit:
    honeypot = event.link == HONEYPOT_LINK
    return Hit(
        message=event.message,
        kind=event.kind.value,
        ts=event.ts,
        sent_at=event.sent_at,
        ip=event.peer or event.ip,
        ua=event.user_agent,
        method=event.method,
        headers=event.headers,
        link=None if honeypot else event.link,
        honeypot=honeypot,
    )


def _change(
    event: Event, verdict: Verdict, agent: str | None, reasons: tuple[str, ...], now: float
) -> VerdictChange:
    return VerdictChange(event.message, event.ts, event.kind, verdict, agent, list(reasons), now)
