"""The classifier: a verdict, an agent and reasons for every hit, judged per message.

Each hit's evidence (classify/evidence.py) and its message's (classify/sequence.py) are
weights; their sum decides. At ``MACHINE_AT`` or more the hit is a machine's, at
``HUMAN_AT`` or less a person's, and in between it stays unknown: Inkling says "we cannot
tell" rather than guess. The weights are set so that no single weak clue (timing, a
data-centre address, an old browser) decides alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from inkling.classify.evidence import WEIGHT, Evidence, Facts, hit_facts
from inkling.classify.hit import Hit, Judgement
from inkling.classify.ranges import Networks
from inkling.classify.sequence import HUMAN_AT, MACHINE_AT, sequence_evidence, upgrades
from inkling.classify.signatures import UserAgents
from inkling.model import Agent, EventKind, Verdict, fallback_agent

HUMAN, MACHINE, UNKNOWN = Verdict.HUMAN, Verdict.MACHINE, Verdict.UNKNOWN


class Classifier:
    """Judges hits; holds the signature table and the IP ranges it judges with."""

    def __init__(self, user_agents: UserAgents | None = None, networks: Networks | None = None):
        self.user_agents = user_agents or UserAgents.load()
        self.networks = networks or Networks.load()

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Classifier:
        """A classifier using the ranges an operator installed in ``data_dir``, if any."""
        return cls(networks=Networks.load(data_dir / "ranges"))

    def facts(self, hit: Hit, *, network: str | None = None) -> Facts:
        """What ``hit`` says by itself; ``network`` as in :func:`hit_facts`."""
        return hit_facts(hit, self.user_agents, self.networks, network=network)

    def judge(self, message_facts: Sequence[Facts]) -> list[Judgement]:
        """Judgements for the hits of one message, in the order given."""
        judged = self.judge_some(message_facts, range(len(message_facts)))
        return [judged[i] for i in range(len(message_facts))]

    def judge_some(
        self, message_facts: Sequence[Facts], wanted: Iterable[int]
    ) -> dict[int, Judgement]:
        """Judgements for the ``wanted`` hits of one message, judged with all of them.
        (Weighing every hit's evidence is cheap; writing a judgement is not, and the live
        judge needs only those that may have changed.)"""
        extra = sequence_evidence(message_facts)
        # Most hits get no evidence from their sequence: their own score stands, and their
        # evidence list is built only if their judgement is wanted.
        scores = [
            f.score + sum(map(WEIGHT, more)) if more else f.score
            for f, more in zip(message_facts, extra, strict=True)
        ]
        lifted = upgrades(message_facts, scores)
        judged = {}
        for i in wanted:
            facts, more, upgrade = message_facts[i], extra[i], lifted[i]
            found = (*facts.evidence, *more, upgrade) if upgrade else (*facts.evidence, *more)
            judged[i] = _judgement(facts.hit.kind, found)
        return judged

    def classify(self, hits: Iterable[Hit]) -> list[Judgement]:
        """Judgements for ``hits`` in input order, the hits of each message judged together."""
        by_message: dict[str, list[tuple[int, Facts]]] = {}
        count = 0
        for count, hit in enumerate(hits, 1):
            by_message.setdefault(hit.message, []).append((count - 1, self.facts(hit)))
        result: list[Judgement | None] = [None] * count
        for indexed in by_message.values():
            judged = self.judge([facts for _, facts in indexed])
            for (position, _), judgement in zip(indexed, judged, strict=True):
                result[position] = judgement
        return [j for j in result if j is not None]


def classify_hits(hits: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``inkling classify`` as a function: hit dicts in, verdict dicts out, in order."""
    parsed = [Hit.from_json(dict(hit)) for hit in hits]
    judged = _default().classify(parsed)
    return [j.as_json(hit.message) for hit, j in zip(parsed, judged, strict=True)]


@cache
def _default() -> Classifier:
    """The classifier ``classify_hits`` uses, with the shipped tables, made once."""
    return Classifier()


def verdict_for(score: float) -> Verdict:
    if score >= MACHINE_AT:
        return MACHINE
    if score <= HUMAN_AT:
        return HUMAN
    return UNKNOWN


@lru_cache(maxsize=4096)
def _judgement(kind: str, evidence: tuple[Evidence, ...]) -> Judgement:
    """The judgement the evidence adds up to. Cached: a tracker sees the same few kinds
    of hit over and over (a judgement is never changed after it is made)."""
    score = sum(e.weight for e in evidence)
    verdict = verdict_for(score)
    direction = {MACHINE: -1, HUMAN: 1, UNKNOWN: 0}[verdict]
    if direction:
        ordered = sorted(evidence, key=lambda e: direction * e.weight)
    else:
        ordered = sorted(evidence, key=lambda e: -abs(e.weight))
    reasons = _reasons(ordered)
    return Judgement(verdict, _agent(verdict, kind, ordered), reasons, _leanings(ordered, reasons))


def _agent(verdict: Verdict, kind: str, ordered: list[Evidence]) -> Agent | None:
    """The agent named by the strongest evidence for the verdict, else by neutral
    evidence (Yahoo's proxy), else the usual one for the verdict."""
    sign = {MACHINE: 1, HUMAN: -1, UNKNOWN: 0}[verdict]
    for e in ordered:
        if e.agent is not None and (e.weight * sign > 0 or (sign == 0 and e.weight != 0)):
            return e.agent
    for e in ordered:
        if e.agent is not None and e.weight == 0:
            return e.agent
    return fallback_agent(verdict, EventKind(kind))


def _leanings(ordered: list[Evidence], reasons: tuple[str, ...]) -> tuple[str, ...]:
    """Where each reason points: the sign of its evidence's weight (a reason given twice
    points where its first, strongest, use does)."""
    weight: dict[str, float] = {}
    for e in ordered:
        weight.setdefault(e.reason, e.weight)
    return tuple(_leaning(weight[r]) for r in reasons)


def _leaning(weight: float) -> str:
    return "machine" if weight > 0 else "person" if weight < 0 else "neither"


def _reasons(ordered: list[Evidence]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.reason for e in ordered))
