"""Which workflow a message belongs to, and the policy that follows from it.

The helpdesk can say it in an ``X-Inkling-Workflow`` header; otherwise the first rule in
the settings whose every pattern matches decides. A workflow's policy is the one a lead
set on the dashboard's Settings page when there is one (the ``workflow_policies`` table),
else its ``[workflows.NAME]`` in the settings; a workflow with neither, and mail that names
no workflow and matches no rule, follow the workflow ``default`` ("default for the rest",
DESIGN.md), and are tracked in full, without a read receipt or a disclosure line, when
``default`` has no policy either.

The dashboard's policies are read at most once every :data:`OVERRIDES_TTL` seconds, so a
message costs no query of its own: a change made on one node reaches every other node's
next message within those 5 seconds, and this node's at once (the page calls
:meth:`Workflows.forget`). The page lists the policies through :meth:`Workflows.settings`,
so what it shows is what the relay applies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from inkling.privacy.policy import DEFAULT_POLICY, Policy

#: The workflow whose policy covers the rest.
DEFAULT_WORKFLOW = "default"
#: Seconds a read of the dashboard's policies is used before it is read again.
OVERRIDES_TTL = 5.0
#: Reads every policy set on the dashboard, by workflow name (``store.policies``).
Overrides = Callable[[], Mapping[str, Policy]]


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


@dataclass(frozen=True, slots=True)
class Setting:
    """A workflow's policy as it stands: the settings' own (None when they have no
    ``[workflows.NAME]`` for it), the dashboard's (None when none was set) and the one
    that applies."""

    workflow: str
    configured: Policy | None
    override: Policy | None

    @property
    def policy(self) -> Policy:
        return self.override or self.configured or DEFAULT_POLICY


class Workflows:
    """Policies by workflow name (the settings', under the dashboard's ``overrides``),
    and the rules that name a workflow."""

    def __init__(
        self,
        policies: Mapping[str, Policy],
        rules: Sequence[Rule],
        overrides: Overrides | None = None,
        *,
        ttl: float = OVERRIDES_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policies = dict(policies)
        self._rules = tuple(rules)
        self._overrides = overrides
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, Mapping[str, Policy]] | None = None
        self._generation = 0  # bumped by forget(): a read begun before it is not kept

    @property
    def configured(self) -> Mapping[str, Policy]:
        """The settings' own policies (``[workflows.NAME]``)."""
        return dict(self._policies)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

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
        match either); a recipient pattern must match one of the copy's ``recipients``.
        Raises StoreError when the dashboard's policies are due a read and cannot be
        read (the copy could not be registered either)."""
        workflow = named.strip() if named and named.strip() else None
        if workflow is None:
            workflow = self._match(list(senders), list(recipients), subject or "")
        return Route(workflow, self.policy(workflow))

    def policy(self, workflow: str | None) -> Policy:
        """The policy that applies to ``workflow`` (None: none named or matched) now: the
        dashboard's, else the settings', else that of the workflow ``default`` ("default
        for the rest", DESIGN.md), else full tracking."""
        current = self._current()
        for name in (workflow, DEFAULT_WORKFLOW) if workflow else (DEFAULT_WORKFLOW,):
            found = current.get(name) or self._policies.get(name)
            if found is not None:
                return found
        return DEFAULT_POLICY

    def settings(self) -> list[Setting]:
        """Every workflow the settings or the dashboard give a policy, or a rule names,
        by name, with the dashboard's policies read afresh (and kept for the next copies)."""
        self.forget()
        overrides = self._current()
        names = {*self._policies, *(rule.workflow for rule in self._rules), *overrides}
        return [
            Setting(name, self._policies.get(name), overrides.get(name)) for name in sorted(names)
        ]

    def forget(self) -> None:
        """Read the dashboard's policies again for the next copy (after a change)."""
        with self._lock:
            self._cached = None
            self._generation += 1

    def _current(self) -> Mapping[str, Policy]:
        if self._overrides is None:
            return {}
        now = self._clock()
        with self._lock:
            cached, generation = self._cached, self._generation
        if cached is not None and now < cached[0]:
            return cached[1]
        fresh = dict(self._overrides())
        with self._lock:
            if self._generation == generation:
                self._cached = (now + self._ttl, fresh)
        return fresh

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
