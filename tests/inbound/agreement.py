"""How far Inkling's bounce answers agree with sisimai's and with the corpus labels.

sisimai's answers were stored once by ``bench/sisimai_labels.py`` in
``tests/fixtures/inbound/sisimai_labels.json``; nothing here runs sisimai. Measured on the
files where sisimai gives an answer:

- ``reason``: Inkling's reason is sisimai's (for the same recipient when both name it);
  a success report counts when Inkling calls it ``delivered`` and sisimai ``delivered``;
- ``class``: Inkling's ``hard`` exactly when sisimai's ``hardbounce``;
- ``kind``: bounce or not, as the corpus labels say (``labels.json``).

``bench/bounces.py`` prints these figures; ``test_sisimai_agreement.py`` holds them to bars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from inkling.inbound import parse_message
from inkling.inbound.rules import reason_rules
from tests.inbound.conftest import BOUNCES, INBOUND, bounce_labels

SISIMAI = INBOUND / "sisimai_labels.json"


def sisimai_labels() -> dict[str, Any]:
    """The stored label file: ``sisimai`` (version), ``date`` and ``files``."""
    labels: dict[str, Any] = json.loads(SISIMAI.read_text("utf-8"))
    return labels


#: A reason sisimai 5 tells apart counts as the broader 4.25 words it was under
#: (inbound/splits.toml): the labels are sisimai 4.25's answers.
_PARENTS = {split.reason: split.parents for split in reason_rules().splits}


@dataclass(frozen=True, slots=True)
class Comparison:
    """One corpus file: what Inkling said beside sisimai's answer for the same recipient."""

    file: str
    inkling: dict[str, Any]
    sisimai: dict[str, Any]
    is_bounce: bool | None  # the corpus label, None when the file has none

    @property
    def reason_agrees(self) -> bool:
        bounce = self.inkling.get("bounce")
        if self.sisimai["reason"] == "delivered":
            return bool(self.inkling["kind"] == "delivered")
        if bounce is None:
            return False
        ours, theirs = bounce["reason"], self.sisimai["reason"]
        return bool(ours == theirs or theirs in _PARENTS.get(ours, ()))

    @property
    def class_agrees(self) -> bool:
        bounce = self.inkling.get("bounce") or {}
        return (bounce.get("class") == "hard") == bool(self.sisimai["hardbounce"])

    @property
    def kind_agrees(self) -> bool:
        return self.is_bounce is None or (self.inkling["kind"] == "bounce") == self.is_bounce


@dataclass(slots=True)
class Agreement:
    """The figures over a corpus: counts of agreeing files out of ``compared``."""

    compared: int = 0
    reason: int = 0
    klass: int = 0
    kind: int = 0
    kind_labelled: int = 0
    disagreements: list[Comparison] = field(default_factory=list)

    def add(self, item: Comparison) -> None:
        self.compared += 1
        self.reason += item.reason_agrees
        self.klass += item.class_agrees
        if item.is_bounce is not None:
            self.kind_labelled += 1
            self.kind += item.kind_agrees
        if not (item.reason_agrees and item.class_agrees and item.kind_agrees):
            self.disagreements.append(item)

    def rates(self) -> dict[str, float]:
        return {
            "reason": self.reason / self.compared,
            "class": self.klass / self.compared,
            "kind": self.kind / self.kind_labelled,
        }


def _matching_answer(answers: list[dict[str, Any]], inkling: dict[str, Any]) -> dict[str, Any]:
    """sisimai's answer for Inkling's first recipient, else its first answer."""
    bounce = inkling.get("bounce") or {}
    wanted = str(bounce.get("recipient", "")).lower()
    for answer in answers:
        if str(answer["recipient"]).lower() == wanted:
            return answer
    return answers[0]


def compare() -> Agreement:
    """Parse every corpus file sisimai answered for and compare."""
    is_bounce = {label["file"]: bool(label["bounce"]) for label in bounce_labels()}
    result = Agreement()
    for name, answers in sorted(sisimai_labels()["files"].items()):
        if not answers:
            continue
        inkling = parse_message((BOUNCES / name).read_bytes()).as_json()
        answer = _matching_answer(answers, inkling)
        result.add(Comparison(name, inkling, answer, is_bounce.get(name)))
    return result
