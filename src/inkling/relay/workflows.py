"""Which workflow a message belongs to, and the policy that follows from it.

The helpdesk can say it in an ``X-Inkling-Workflow`` header; otherwise the first rule in
the settings whose every pattern matches decides. A workflow without a policy of its own
is tracked in full, without a read receipt or a disclosure line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from inkling.privacy.policy import DEFAULT_POLICY, Policy


@dataclass(frozen=True, slots=True)
class Rule:
    """Puts a message in ``workflow`` when every pattern given matches (shell-style globs,
    without regard to case; the settings refuse a rule without any)."""

    workflow: str
    sender: str | None = None
    recipient: str | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """The workflow a copy belongs to (None: none named or matched) and its policy."""

    workflow: str | None
    policy: Policy


class Workflows:
    """Policies by workflow name, and the rules that name a workflow."""

    def __init__(self, policies: dict[str, Policy], rules: Sequence[Rule]) -> None:
        self._policies = policies
        self._rules = list(rules)

    def route(
        self,
        named: str | None,
        *,
        senders: Iterable[str],
        recipients: Iterable[str],
        subject: str | None,
    ) -> Route:
        """The route of a copy. ``named`` is the X-Inkling-Workflow header, which wins;
        ``senders`` are the envelope sender and the From address (a sender pattern may
        match either); a recipient pattern must match one of the copy's ``recipients``."""
        workflow = named.strip() if named and named.strip() else None
        if workflow is None:
            workflow = self._match(list(senders), list(recipients), subject or "")
        policy = self._policies.get(workflow, DEFAULT_POLICY) if workflow else DEFAULT_POLICY
        return Route(workflow, policy)

    def _match(self, senders: list[str], recipients: list[str], subject: str) -> str | None:
        for rule in self._rules:
            if (
                _any(rule.sender, senders)
                and _any(rule.recipient, recipients)
                and _any(rule.subject, [subject])
            ):
                return rule.workflow
        return None


def _any(pattern: str | None, values: list[str]) -> bool:
    if pattern is None:
        return True
    return any(fnmatchcase(value.lower(), pattern.lower()) for value in values)
