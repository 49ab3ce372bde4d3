"""Policies set on the dashboard over the settings' own: which one a copy follows, how
seldom they are read (a few seconds apart, not once a message), and that a change made
through this very object applies to the next copy at once."""

from __future__ import annotations

from collections.abc import Mapping

from inkling.privacy.policy import DEFAULT_POLICY, Policy, Tracking
from inkling.relay.workflows import OVERRIDES_TTL, Rule, Setting, Workflows

CLICKS = Policy(Tracking.CLICKS, disclosure=True)
NONE = Policy(Tracking.NONE)


class Table:
    """The dashboard's policies as the store would answer them, counting the reads."""

    def __init__(self, policies: Mapping[str, Policy] | None = None) -> None:
        self.policies = dict(policies or {})
        self.reads = 0

    def __call__(self) -> Mapping[str, Policy]:
        self.reads += 1
        return dict(self.policies)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _route(flows: Workflows, named: str | None, subject: str = "Hello") -> Policy:
    return flows.route(
        named, senders=["a@help.example"], recipients=["c@x.example"], subject=subject
    ).policy


def test_a_policy_set_on_the_dashboard_wins_over_the_settings_and_a_reset_gives_it_back() -> None:
    table = Table({"billing": NONE, "newsletters": CLICKS})
    flows = Workflows({"billing": CLICKS}, [Rule("returns", subject="*return*")], table)
    assert _route(flows, "billing") == NONE
    assert _route(flows, "newsletters") == CLICKS  # named only on the dashboard
    assert _route(flows, "legal") == DEFAULT_POLICY
    assert _route(flows, None) == DEFAULT_POLICY  # no workflow at all
    del table.policies["billing"]
    flows.forget()
    assert _route(flows, "billing") == CLICKS


def test_the_dashboards_policies_are_read_once_per_few_seconds_not_once_per_copy() -> None:
    table, clock = Table({"billing": NONE}), Clock()
    flows = Workflows({"billing": CLICKS}, [], table, clock=clock)
    for _ in range(50):
        assert _route(flows, "billing") == NONE
    assert table.reads == 1
    table.policies["billing"] = Policy(Tracking.FULL)  # another node changes it
    clock.now += OVERRIDES_TTL - 0.5
    assert _route(flows, "billing") == NONE  # not seen yet here ...
    clock.now += 1
    assert _route(flows, "billing") == Policy(Tracking.FULL)  # ... within the 5 seconds
    assert table.reads == 2
    table.policies["billing"] = NONE  # changed through this node's page
    flows.forget()
    assert _route(flows, "billing") == NONE  # at once
    assert OVERRIDES_TTL == 5.0  # what docs/dashboard.md promises


def test_the_listing_names_every_workflow_with_its_three_policies_read_afresh() -> None:
    table, clock = Table({"newsletters": CLICKS}), Clock()
    flows = Workflows(
        {"billing": CLICKS, "legal": NONE},
        [Rule("returns", subject="*return*")],
        table,
        clock=clock,
    )
    assert _route(flows, "billing") == CLICKS
    table.policies["billing"] = NONE
    listed = {s.workflow: s for s in flows.settings()}  # no waiting for the cache
    assert list(listed) == ["billing", "legal", "newsletters", "returns"]
    assert listed["billing"] == Setting("billing", CLICKS, NONE)
    assert listed["billing"].policy == NONE
    assert listed["newsletters"].policy == CLICKS and listed["newsletters"].configured is None
    assert listed["returns"] == Setting("returns", None, None)
    assert listed["returns"].policy == DEFAULT_POLICY
    assert _route(flows, "billing") == NONE  # the copies follow what the page showed


def test_without_a_dashboard_only_the_settings_count() -> None:
    flows = Workflows({"billing": CLICKS}, [Rule("billing", subject="*invoice*")])
    assert _route(flows, None, subject="Your invoice") == CLICKS
    assert [s.workflow for s in flows.settings()] == ["billing"]
