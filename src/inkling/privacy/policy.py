"""How much of a message is tracked: the strictest of its workflow's policy, the
recipient's opt-out and what the sensitive-content guard found.

Every way mail leaves (``inkling instrument``, the relay, the sending API) asks
:func:`decide`, so a policy means the same on every path. The decision keeps the reason of
the limit that won, in the words a reading shows (``policy``, ``opt_out``, ``sensitive:
card number``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from inkling.privacy.guard import Finding


class Tracking(StrEnum):
    """From most to least tracked: pixel and links, links only, nothing."""

    FULL = "full"
    CLICKS = "clicks"
    NONE = "none"

    @property
    def strictness(self) -> int:
        return _STRICTNESS[self]


_STRICTNESS = {Tracking.FULL: 0, Tracking.CLICKS: 1, Tracking.NONE: 2}

#: The reasons a decision gives (``sensitive: ...`` adds what the guard found).
POLICY = "policy"
OPT_OUT = "opt_out"
SENSITIVE = "sensitive"


@dataclass(frozen=True, slots=True)
class Policy:
    """A workflow's settings (``[workflows.NAME]``)."""

    tracking: Tracking = Tracking.FULL
    read_receipt: bool = False
    disclosure: bool = False


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Decision:
    """What is done with one copy, and why it is less than full tracking (None if it is
    not)."""

    tracking: Tracking
    read_receipt: bool
    disclosure: bool
    why: str | None = None

    @property
    def pixel(self) -> bool:
        return self.tracking is Tracking.FULL

    @property
    def tracked(self) -> bool:
        return self.tracking is not Tracking.NONE

    def limited(self, tracking: Tracking, why: str) -> Decision:
        """This decision, or ``tracking`` with ``why`` if that is stricter."""
        if tracking.strictness <= self.tracking.strictness:
            return self
        return _consistent(replace(self, tracking=tracking, why=why))


def decide(
    policy: Policy, *, opted_out: bool = False, findings: Sequence[Finding] = ()
) -> Decision:
    """The strictest of ``policy``, an opt-out and the guard's ``findings`` (content the
    guard finds stops all tracking). On a tie the policy's reason is given: it was the
    operator's choice before anything else."""
    decision = Decision(policy.tracking, policy.read_receipt, policy.disclosure)
    if policy.tracking is not Tracking.FULL:
        decision = replace(decision, why=POLICY)
    if opted_out:
        decision = decision.limited(Tracking.NONE, OPT_OUT)
    if findings:
        decision = decision.limited(Tracking.NONE, sensitive(findings[0].kind))
    return _consistent(decision)


def sensitive(kind: str) -> str:
    """The reason for content of ``kind`` ("sensitive: card number")."""
    return f"{SENSITIVE}: {kind}"


#: The words of the disclosure line's link to the customer-facing notice.
NOTICE_LINK = "Why, and how to turn it off"


def disclosure(tracking: Tracking) -> str:
    """The disclosure line of a message tracked as ``tracking`` says (one sentence)."""
    if tracking is Tracking.FULL:
        return "This email uses a tracking pixel and tracked links to help us follow up."
    return "This email uses tracked links to help us follow up."


def _consistent(decision: Decision) -> Decision:
    """An untracked copy asks for no read receipt and carries no tracking notice."""
    if decision.tracked:
        return decision
    return replace(decision, read_receipt=False, disclosure=False)
