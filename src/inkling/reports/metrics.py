"""The report: every metric of DESIGN.md's *Metrics*, computed once from one read of the
store, in the contract's JSON shape (``inkling report --format json``, ``GET
/api/v1/reports``, and what the dashboard shows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inkling.playbook.teams import TeamBook
from inkling.reports.content import LinkFigures, SubjectFigures, link_figures, subject_figures
from inkling.reports.facts import Engagement, Returns, help_matcher, ticket_facts
from inkling.reports.flags import THRESHOLDS, Thresholds
from inkling.reports.outcomes import Outcomes, by_engagement, outcomes
from inkling.reports.period import Period
from inkling.reports.signals import opens_by_agent
from inkling.store import Store
from inkling.store.reports import CONTENT, OUTCOMES, ReportRows
from inkling.times import iso

ONLY_CONTENT = frozenset({CONTENT})
ONLY_OUTCOMES = frozenset({OUTCOMES})


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    team: str | None
    outcomes: Outcomes
    by_engagement: dict[Engagement, Outcomes]
    content: list[LinkFigures]
    subjects: list[SubjectFigures]
    opens_by_agent: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        """The contract's shape, key for key."""
        overall = self.outcomes.as_json()
        return {
            "since": iso(self.period.since),
            "until": iso(self.period.until),
            "team": self.team,
            **overall,
            "by_engagement": {e.value: o.as_json() for e, o in self.by_engagement.items()},
            "content": [link.as_json() for link in self.content],
            "subjects": [subject.as_json() for subject in self.subjects],
            "signals": {"opens_by_agent": dict(self.opens_by_agent)},
        }


@dataclass(frozen=True, slots=True)
class ContentReport:
    """The content part alone, as the Content page shows it."""

    period: Period
    team: str | None
    tickets_solved: int
    content: list[LinkFigures]
    subjects: list[SubjectFigures]


@dataclass(frozen=True, slots=True)
class OutcomesReport:
    """The outcomes part alone, as the Outcomes page shows it."""

    period: Period
    team: str | None
    outcomes: Outcomes
    by_engagement: dict[Engagement, Outcomes]


def build_report(
    store: Store,
    teams: TeamBook,
    period: Period,
    *,
    team: str | None = None,
    help_center: Sequence[str] = (),
    thresholds: Thresholds = THRESHOLDS,
) -> Report:
    """The report over the tickets solved in ``period`` (of ``team`` only, if given);
    ``help_center``: the URL prefixes of help articles (``[reports] help_center``)."""
    rows = store.reports.rows(period.since, period.until, team, help_center)
    returns = Returns(rows)
    facts = ticket_facts(rows, teams, help_matcher(help_center), returns)
    return Report(
        period=period,
        team=team,
        outcomes=outcomes(facts),
        by_engagement=by_engagement(facts),
        content=link_figures(rows, _came_back(rows, returns), thresholds),
        subjects=subject_figures(rows, thresholds),
        opens_by_agent=opens_by_agent(rows.opens_by_agent),
    )


def content_report(
    store: Store,
    period: Period,
    *,
    team: str | None = None,
    help_center: Sequence[str] = (),
    thresholds: Thresholds = THRESHOLDS,
) -> ContentReport:
    """The report's content part (the same figures as :func:`build_report`'s), from only
    the queries it needs."""
    rows = store.reports.rows(period.since, period.until, team, help_center, ONLY_CONTENT)
    came_back = _came_back(rows, Returns(rows))
    return ContentReport(
        period=period,
        team=team,
        tickets_solved=len(rows.tickets),
        content=link_figures(rows, came_back, thresholds),
        subjects=subject_figures(rows, thresholds),
    )


def outcomes_report(
    store: Store,
    teams: TeamBook,
    period: Period,
    *,
    team: str | None = None,
    help_center: Sequence[str] = (),
) -> OutcomesReport:
    """The report's outcomes part (the same figures as :func:`build_report`'s), from only
    the queries it needs."""
    rows = store.reports.rows(period.since, period.until, team, help_center, ONLY_OUTCOMES)
    facts = ticket_facts(rows, teams, help_matcher(help_center), Returns(rows))
    return OutcomesReport(period, team, outcomes(facts), by_engagement(facts))


def _came_back(rows: ReportRows, returns: Returns) -> Callable[[str, float], bool]:
    """Whether the customer of a ticket came back (replied, or opened another ticket)
    within the window after ``start``."""
    requesters = {ident: requester for ident, _team, requester, _c, _s in rows.tickets}

    def came_back(ticket: str, start: float) -> bool:
        return returns.came_back(ticket, requesters.get(ticket), start)

    return came_back
