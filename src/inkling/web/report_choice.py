"""What a report page covers, read from its query string: ``since`` and ``until`` (a date
such as 2026-11-01, or a time as ``inkling report`` takes it) and ``team``.

The Content, Outcomes and Signals pages share it, so the same link shows the same tickets
on each; a value that is no date is one clear line on the page, not an error page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inkling.errors import InklingError
from inkling.reports import (
    ContentReport,
    OutcomesReport,
    Period,
    content_report,
    outcomes_report,
    period,
)
from inkling.times import iso
from inkling.web.sources import Sources

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A team name or date longer than this is neither.
MAX_VALUE = 200


@dataclass(frozen=True, slots=True)
class ReportChoice:
    period: Period
    team: str | None
    since_text: str  # what the form shows back (the date the reader chose, or the default)
    until_text: str
    problem: str | None = None  # one line saying why the reader's choice was not taken
    #: The column a page's tables are sorted by, as the reader asked (the page checks it).
    sort: str | None = None

    @property
    def query(self) -> dict[str, str]:
        """The query string that shows the same choice on another report page."""
        chosen = {"since": self.since_text, "until": self.until_text}
        return {**chosen, "team": self.team} if self.team else chosen


def chosen_content(sources: Sources, choice: ReportChoice) -> ContentReport:
    """The report's content part over the tickets solved in the chosen period (and
    team), as the Content page reads it."""
    return content_report(
        sources.store, choice.period, team=choice.team, help_center=sources.help_center
    )


def chosen_outcomes(sources: Sources, choice: ReportChoice) -> OutcomesReport:
    """The report's outcomes part, as the Outcomes page reads it."""
    return outcomes_report(
        sources.store,
        sources.teams,
        choice.period,
        team=choice.team,
        help_center=sources.help_center,
    )


def report_choice(values: dict[str, str], *, now: float) -> ReportChoice:
    """The choice in ``values`` (a query string); the last 30 days to ``now`` when none,
    or when the one given cannot be read (with ``problem`` saying why)."""
    since, until = _value(values, "since"), _value(values, "until")
    team = _value(values, "team")
    try:
        covered = period(_as_time(since), _as_time(until, end=True), now=now)
        problem = None
    except InklingError as exc:
        covered, problem = period(None, None, now=now), f"Showing the last 30 days: {exc}."
        since = until = None
    return ReportChoice(
        covered,
        team,
        since or iso(covered.since)[:10],
        until or iso(covered.until)[:10],
        problem,
        _value(values, "sort"),
    )


def _value(values: dict[str, str], name: str) -> str | None:
    value = values.get(name, "").strip()
    return value if value and len(value) <= MAX_VALUE and "\x00" not in value else None


def _as_time(text: str | None, *, end: bool = False) -> str | None:
    """A bare date is midnight UTC (``until``: the end of that day, so 'until the 30th'
    includes the 30th)."""
    if text is None or not _DATE.fullmatch(text):
        return text
    if end:
        from datetime import date, timedelta

        try:
            following = date.fromisoformat(text) + timedelta(days=1)
        except ValueError as exc:
            raise InklingError(f"until is not a date: {text!r}") from exc
        return f"{following.isoformat()}T00:00:00Z"
    return f"{text}T00:00:00Z"
