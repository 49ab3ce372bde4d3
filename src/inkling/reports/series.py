"""Opens by what made them, over time: the report's ``opens_by_agent``, step by step.

The store counts the opens on the solved tickets' mail per UTC day, verdict and agent
(``store/report_series.py``); here each (verdict, agent) goes to its bucket as the report
puts it (``signals.bucket``) and the days are gathered into steps: a day for a period up
to about three months, a week (Monday to Sunday) up to three years, a month past that, so
that a chart keeps bars a reader can tell apart. Every step of the period is there, with
0 opens when nothing happened (past ten years, only those from its first open to its
last). The opens on days outside the period (mail sent before a ticket's period began,
or opened after it ended) are counted apart, in ``outside``: with them, the totals are
the report's ``opens_by_agent``.

Days are UTC days: no team's clock applies to opens from everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from inkling.reports.period import Period
from inkling.reports.signals import BUCKETS, bucket
from inkling.store import Store
from inkling.store.report_series import DayRow

DAY = 86_400
#: A period of up to this many days is drawn per day ("the last 90 days" included).
DAILY_UP_TO = 92
#: Up to this many, per week; past it, per month.
WEEKLY_UP_TO = 3 * 366
#: A period longer than this (someone chose 1970 to 2999) is drawn over the span of its
#: opens only: a century of empty months says nothing.
WHOLE_UP_TO = 10 * 366
_EPOCH = date(1970, 1, 1)


class Step(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Point:
    """The opens of one step, ``[start, end)`` in epoch seconds (UTC midnights; the first
    and last step cut to the period's days)."""

    start: float
    end: float
    opens: dict[str, int]  # every bucket, 0 when empty

    @property
    def total(self) -> int:
        return sum(self.opens.values())


@dataclass(frozen=True, slots=True)
class OpenSeries:
    step: Step
    points: list[Point]
    #: Opens on the same mail on days outside those shown, per bucket.
    outside: dict[str, int]
    #: The tickets solved in the period (the report's ``tickets_solved``).
    tickets: int = 0

    def shown(self) -> dict[str, int]:
        """The opens per bucket over the steps shown."""
        counts = dict.fromkeys(BUCKETS, 0)
        for point in self.points:
            for name, opens in point.opens.items():
                counts[name] += opens
        return counts

    def totals(self) -> dict[str, int]:
        """Every open per bucket, shown or outside: the report's ``opens_by_agent``."""
        shown = self.shown()
        return {name: shown[name] + self.outside[name] for name in BUCKETS}


def opens_series(store: Store, period: Period, *, team: str | None = None) -> OpenSeries:
    """The opens on the mail of the tickets solved in ``period`` (of ``team`` only, if
    given), per bucket and step, and how many tickets were solved."""
    reading = store.report_series
    found = series(reading.opens_by_day(period.since, period.until, team), period)
    return replace(found, tickets=reading.tickets_solved(period.since, period.until, team))


def series(rows: Iterable[DayRow], period: Period) -> OpenSeries:
    """The steps of ``period`` from the store's (day, verdict, agent, opens) rows."""
    by_day: dict[int, dict[str, int]] = {}
    for day, verdict, agent, opens in rows:
        counts = by_day.setdefault(day, dict.fromkeys(BUCKETS, 0))
        counts[bucket(verdict, agent)] += int(opens)
    first, last = _days(period)
    if last - first + 1 > WHOLE_UP_TO:
        seen = [day for day in by_day if first <= day <= last]
        first, last = (min(seen), max(seen)) if seen else (last, last)
    step = _step(last - first + 1)
    points = [
        Point(start * DAY, end * DAY, _sum(by_day, start, end))
        for start, end in _steps(first, last, step)
    ]
    outside = dict.fromkeys(BUCKETS, 0)
    for day, counts in by_day.items():
        if not first <= day <= last:
            for name, opens in counts.items():
                outside[name] += opens
    return OpenSeries(step, points, outside)


def _days(period: Period) -> tuple[int, int]:
    """The first and last UTC day the period touches (``until`` itself excluded)."""
    first = math.floor(period.since / DAY)
    return first, max(first, math.ceil(period.until / DAY) - 1)


def _step(days: int) -> Step:
    if days <= DAILY_UP_TO:
        return Step.DAY
    return Step.WEEK if days <= WEEKLY_UP_TO else Step.MONTH


def _steps(first: int, last: int, step: Step) -> list[tuple[int, int]]:
    """The ``[start, end)`` days of each step from ``first`` to ``last``, cut to them."""
    following = _NEXT[step]
    found = []
    start = first
    while start <= last:
        end = min(following(start), last + 1)
        found.append((start, end))
        start = end
    return found


def _next_day(day: int) -> int:
    return day + 1


def _next_week(day: int) -> int:
    """The Monday after ``day`` (1970-01-01, day 0, was a Thursday)."""
    return day + 7 - (day + 3) % 7


def _next_month(day: int) -> int:
    found = _EPOCH + timedelta(days=day)
    start = date(found.year + found.month // 12, found.month % 12 + 1, 1)
    return (start - _EPOCH).days


_NEXT: dict[Step, Callable[[int], int]] = {
    Step.DAY: _next_day,
    Step.WEEK: _next_week,
    Step.MONTH: _next_month,
}


def _sum(by_day: dict[int, dict[str, int]], start: int, end: int) -> dict[str, int]:
    counts = dict.fromkeys(BUCKETS, 0)
    for day in range(start, end):
        for name, opens in by_day.get(day, {}).items():
            counts[name] += opens
    return counts
