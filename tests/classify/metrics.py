"""How well the classifier's verdicts match the truth of a labelled set.

The figures are those the team promised: machine precision (a machine verdict must be
right, or a real person's reading is lost), machine recall, the share of people called
machines (the gravest error), the share of people's hits called human (``human_recall``:
the playbook counts only ``human`` hits as a sign of a person, so every person left
``unknown`` can become a needless nudge or escalation), the share of machines' hits called
human (a machine let through as a person), and the share of hits left unknown (a
classifier that shrugs at everything is useless). Per truth agent they show where the
errors sit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

HUMAN, MACHINE, UNKNOWN = "human", "machine", "unknown"


class Truth(Protocol):
    """What the scorer needs from a labelled hit (``scenarios.LabelledHit`` fits)."""

    @property
    def verdict(self) -> str: ...

    @property
    def agent(self) -> str: ...


@dataclass(frozen=True)
class Target:
    """A promised figure: ``at_least`` a floor, otherwise a ceiling."""

    figure: str
    limit: float
    at_least: bool

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return value >= self.limit if self.at_least else value <= self.limit


TARGETS = (
    Target("machine_precision", 0.999, at_least=True),
    Target("machine_recall", 0.95, at_least=True),
    Target("human_called_machine", 0.002, at_least=False),
    Target("human_recall", 0.97, at_least=True),
    # 0.16-0.41% over seven seeds when this figure was added (0.22%, 11 of 4,993 hits, on the
    # tests' set, where test_evaluation.py holds it from rising).
    Target("machine_called_human", 0.005, at_least=False),
    Target("unknown_share", 0.05, at_least=False),
)

# How much a confusion hurts, by (truth verdict, predicted verdict): losing a person is
# worst, keeping a machine's hit as a person's next, a shrug least.
SEVERITY = {
    (HUMAN, MACHINE): 10.0,
    (MACHINE, HUMAN): 5.0,
    (HUMAN, UNKNOWN): 1.0,
    (MACHINE, UNKNOWN): 1.0,
}
WRONG_AGENT = 0.2


def family(agent: str | None) -> str | None:
    """An agent's family: every ``scanner:*`` counts as ``scanner``."""
    if agent is not None and agent.startswith("scanner"):
        return "scanner"
    return agent


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _agent_row(pairs: list[tuple[Truth, Mapping[str, Any]]]) -> dict[str, Any]:
    called = Counter(p["verdict"] for _, p in pairs)
    exact = sum(p.get("agent") == t.agent for t, p in pairs)
    same_family = sum(family(p.get("agent")) == family(t.agent) for t, p in pairs)
    return {
        "truth_verdict": pairs[0][0].verdict,
        "count": len(pairs),
        MACHINE: called[MACHINE],
        HUMAN: called[HUMAN],
        UNKNOWN: called[UNKNOWN],
        "agent_accuracy": _ratio(exact, len(pairs)),
        "family_accuracy": _ratio(same_family, len(pairs)),
        "predicted_agents": dict(Counter(str(p.get("agent")) for _, p in pairs).most_common()),
    }


def score(truth: Sequence[Truth], predicted: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures for ``predicted`` (classifier outputs, in the same order as ``truth``).

    A ratio with nothing to divide (e.g. precision when nothing was called machine) is
    None, and a target on it does not hold.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labelled hits but {len(predicted)} verdicts")
    pairs = list(zip(truth, predicted, strict=True))
    truly_machine = sum(t.verdict == MACHINE for t in truth)
    truly_human = len(truth) - truly_machine
    called = Counter(p["verdict"] for p in predicted)
    right_machine = sum(t.verdict == MACHINE and p["verdict"] == MACHINE for t, p in pairs)
    human_as_machine = sum(t.verdict == HUMAN and p["verdict"] == MACHINE for t, p in pairs)
    right_human = sum(t.verdict == HUMAN and p["verdict"] == HUMAN for t, p in pairs)
    machine_as_human = called[HUMAN] - right_human
    figures: dict[str, Any] = {
        "hits": len(truth),
        "truth_machine": truly_machine,
        "truth_human": truly_human,
        "called_machine": called[MACHINE],
        "called_human": called[HUMAN],
        "called_unknown": called[UNKNOWN],
        "machine_precision": _ratio(right_machine, called[MACHINE]),
        "machine_recall": _ratio(right_machine, truly_machine),
        "human_called_machine": _ratio(human_as_machine, truly_human),
        "human_recall": _ratio(right_human, truly_human),
        "machine_called_human": _ratio(machine_as_human, truly_machine),
        "unknown_share": _ratio(called[UNKNOWN], len(truth)),
        "agent_accuracy": _ratio(sum(p.get("agent") == t.agent for t, p in pairs), len(pairs)),
        "family_accuracy": _ratio(
            sum(family(p.get("agent")) == family(t.agent) for t, p in pairs), len(pairs)
        ),
    }
    by_agent: defaultdict[str, list[tuple[Truth, Mapping[str, Any]]]] = defaultdict(list)
    for t, p in pairs:
        by_agent[t.agent].append((t, p))
    figures["agents"] = {
        agent: _agent_row(rows)
        for agent, rows in sorted(by_agent.items(), key=lambda item: -len(item[1]))
    }
    figures["targets"] = {
        t.figure: {
            "value": figures[t.figure],
            "limit": t.limit,
            "at_least": t.at_least,
            "holds": t.holds(figures[t.figure]),
        }
        for t in TARGETS
    }
    figures["all_targets_hold"] = all(t["holds"] for t in figures["targets"].values())
    return figures


def _severity(t: Truth, p: Mapping[str, Any]) -> float:
    weight = SEVERITY.get((t.verdict, p["verdict"]), 0.0)
    if weight == 0.0 and family(p.get("agent")) != family(t.agent):
        weight = WRONG_AGENT
    return weight


def worst_confusions(
    truth: Sequence[Truth], predicted: Sequence[Mapping[str, Any]], limit: int = 10
) -> list[dict[str, Any]]:
    """The ``limit`` most harmful kinds of mistake, each with its count and one example.

    A kind is (truth verdict, truth agent, predicted verdict, predicted agent); harm is
    severity (``SEVERITY``, or ``WRONG_AGENT`` for a right verdict with the wrong agent
    family) times count. The example is the first such hit, with whatever the truth
    object carries (``hit``, ``story``) and the classifier's reasons.
    """
    groups: defaultdict[tuple[str, str, str, str | None], list[int]] = defaultdict(list)
    weights: dict[tuple[str, str, str, str | None], float] = {}
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        weight = _severity(t, p)
        if weight:
            key = (t.verdict, t.agent, p["verdict"], p.get("agent"))
            groups[key].append(i)
            weights[key] = weight
    ranked = sorted(groups, key=lambda k: (-weights[k] * len(groups[k]), k[1]))
    return [_confusion(key, groups[key], truth, predicted) for key in ranked[:limit]]


def _confusion(
    key: tuple[str, str, str, str | None],
    indexes: list[int],
    truth: Sequence[Truth],
    predicted: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    first = indexes[0]
    stories = Counter(str(getattr(truth[i], "story", "")) for i in indexes)
    return {
        "truth": f"{key[0]}/{key[1]}",
        "predicted": f"{key[2]}/{key[3]}",
        "count": len(indexes),
        "stories": dict(stories.most_common(3)),
        "example": getattr(truth[first], "hit", None),
        "reasons": list(predicted[first].get("reasons", [])),
    }
