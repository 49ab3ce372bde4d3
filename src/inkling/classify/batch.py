"""The classifier on recorded hits, a batch at a time, each message judged with its history.

The loader hands over each batch it moves from the journal (thousands of hits). Every hit
gets its verdict from its own evidence and from its message's recent hits, held in memory;
a message's earlier hits are judged again only when a new hit can change them, and once per
batch however many of its hits the batch holds. An earlier hit whose verdict changes comes
back as a :class:`VerdictChange`, which the store applies and keeps as history.

Judging does not change the memory: :meth:`Judged.commit` does, once the batch is stored,
so a batch the database refused is judged again from the same history.

Memory is bounded: the most recent ``max_messages`` messages, their last ``max_hits`` hits
each. After a restart a message's sequence starts again from its next hit (its stored
verdicts stand).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from inkling.classify.classifier import Classifier
from inkling.classify.evidence import Facts
from inkling.classify.hit import Hit
from inkling.classify.sequence import HONEYPOT_WINDOW, MACHINE_AT
from inkling.model import PLAIN, Agent, Event, InklingId, Verdict, VerdictChange
from inkling.tokens import HONEYPOT_LINK

MAX_MESSAGES = 20_000
#: Per message: the sequence rules look back minutes, not weeks, and a message that has had
#: more hits than this in that time is a scanner's (whose sweep shows in far fewer).
MAX_HITS = 24


class _Seen:
    """A hit in a message's memory, with the verdict it was stored with."""

    __slots__ = ("agent", "event", "facts", "stored", "verdict")

    def __init__(self, facts: Facts, event: Event) -> None:
        self.facts = facts
        self.event = event
        self.verdict: Verdict = event.verdict
        self.agent: Agent | None = event.agent
        self.stored = False


@dataclass(slots=True)
class Judged:
    """A batch judged: verdicts set on its events, ``changes`` to earlier ones."""

    _judge: BatchJudge
    _windows: dict[InklingId, list[_Seen]]
    _revised: list[tuple[_Seen, Verdict, Agent | None]]
    changes: list[VerdictChange]

    def commit(self) -> None:
        """Remember the batch as stored: call once the store has it."""
        for seen, verdict, agent in self._revised:
            seen.verdict, seen.agent = verdict, agent
        self._judge._remember(self._windows)


class BatchJudge:
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
        self._recent: OrderedDict[InklingId, list[_Seen]] = OrderedDict()

    def judge(self, batch: Sequence[Event], now: float) -> Judged:
        """Set the verdict of every event in ``batch``; list the changes to earlier events
        of the same messages. Nothing is remembered until ``commit()``."""
        windows: dict[InklingId, list[_Seen]] = {}
        stirring: set[InklingId] = set()  # messages whose earlier verdicts may change
        facts_of = self._classifier.facts
        for event in batch:
            window = windows.get(event.message)
            if window is None:
                window = windows[event.message] = list(self._recent.get(event.message, ()))
            facts = facts_of(_hit(event), network=event.network)
            window.append(_Seen(facts, event))
            if _may_change_others(facts):
                stirring.add(event.message)
        revised: list[tuple[_Seen, Verdict, Agent | None]] = []
        changes: list[VerdictChange] = []
        for message, window in windows.items():
            self._judge_window(window, message in stirring, now, revised, changes)
        return Judged(self, windows, revised, changes)

    def _judge_window(
        self,
        window: list[_Seen],
        stirring: bool,
        now: float,
        revised: list[tuple[_Seen, Verdict, Agent | None]],
        changes: list[VerdictChange],
    ) -> None:
        if stirring:
            judged_window, wanted = window, range(len(window))
        else:
            judged_window = _context_of_machine_opens(window)
            fresh = len(judged_window) - sum(s.stored for s in judged_window)
            wanted = range(len(judged_window) - fresh, len(judged_window))
        judged = self._classifier.judge_some([s.facts for s in judged_window], wanted)
        for i, judgement in judged.items():
            seen = judged_window[i]
            verdict, agent = judgement.verdict, judgement.agent
            if not seen.stored:
                event = seen.event
                event.verdict, event.agent = verdict, agent
                event.reasons, event.leanings = list(judgement.reasons), list(judgement.leanings)
                seen.verdict, seen.agent = verdict, agent
            elif (verdict, agent) != (seen.verdict, seen.agent):
                revised.append((seen, verdict, agent))
                changes.append(
                    VerdictChange(
                        event=seen.event.id,
                        message=seen.event.message,
                        previous=seen.verdict,
                        previous_agent=seen.agent,
                        verdict=verdict,
                        agent=agent,
                        reasons=list(judgement.reasons),
                        changed_at=now,
                        leanings=list(judgement.leanings),
                    )
                )

    def _remember(self, windows: dict[InklingId, list[_Seen]]) -> None:
        recent = self._recent
        for message, window in windows.items():
            for seen in window:
                seen.stored = True
            if len(window) > self._max_hits:
                window = window[-self._max_hits :]
            recent[message] = window
            recent.move_to_end(message)
        while len(recent) > self._max_messages:
            recent.popitem(last=False)


def _may_change_others(facts: Facts) -> bool:
    """Whether a new hit can change the verdict of its message's earlier hits: a click
    (bursts, sweeps), a honeypot hit (its burst), or a hit that may be a person's (it
    upgrades uncertain hits before it). A plain machine open changes nothing earlier."""
    return facts.hit.kind != "open" or facts.hit.honeypot or facts.score < MACHINE_AT


def _context_of_machine_opens(window: list[_Seen]) -> list[_Seen]:
    """What new opens that are machines by themselves need to be judged with: the honeypot
    hits just before them (the only earlier hits that add to an open's evidence), then the
    new hits themselves, last."""
    new = [s for s in window if not s.stored]
    since = min(s.facts.hit.ts for s in new) - HONEYPOT_WINDOW
    traps = [s for s in window if s.stored and s.facts.hit.honeypot and s.facts.hit.ts >= since]
    return traps + new


def _hit(event: Event) -> Hit:
    honeypot = event.link == HONEYPOT_LINK
    return Hit(
        message=event.message,
        kind=PLAIN[event.kind],
        ts=event.ts,
        sent_at=event.sent_at,
        ip=event.ip,
        ua=event.user_agent,
        method=event.method,
        headers=event.evidence,
        link=None if honeypot else event.link,
        honeypot=honeypot,
    )
