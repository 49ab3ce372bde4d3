"""The opens over time on hand-built stories, on each backend: the store counts the opens on
the solved tickets' mail per UTC day, verdict and agent (the mail the report reads, each
copy once; days by arithmetic, a second before midnight on its own day), and the series
puts them in the report's buckets, per day, week or month, every step present."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from inkling.model import Agent, Verdict
from inkling.playbook.teams import TeamBook
from inkling.reports import build_report, period
from inkling.reports.series import DAY, Step, opens_series, series
from inkling.reports.signals import BUCKETS
from inkling.store import Store
from inkling.store.report_series import DayRow
from tests.reports.stories import SINCE, UNTIL, Desk, t

NOVEMBER = period(SINCE, UNTIL)


def _day(text: str) -> int:
    return int(t(text) // DAY)


def _story(store: Store) -> Desk:
    """Three solved tickets in November, and mail that must not count:

    - "one" (billing): a person opens on 2 November twice, Apple's proxy once at
      23:59:59.5 that day, a scanner at 00:00 on the 3rd, something nobody can tell on
      the 3rd; a click on the 2nd (not an open);
    - "two" (returns): its own copy, and a copy it names by Message-ID that also says it
      is "two"'s (one copy: counted once); Gmail's proxy for a person, a program nobody
      named, on the 10th;
    - "early": mail sent and fetched by Apple's proxy on 30 October, solved on 3 November;
    - "open" (unsolved) and "october" (solved in October): opens that are not counted.
    """
    desk = Desk(store)
    desk.ticket("one", "2026-11-02T09:00:00Z", "2026-11-04T12:00:00Z", team="billing")
    sent = desk.send("one", "2026-11-02T10:00:00Z", ["https://shop.example.com/"])
    desk.opened(sent, "2026-11-02T10:05:00Z")
    desk.opened(sent, "2026-11-02T18:00:00Z")
    desk.opened(
        sent, t("2026-11-03T00:00:00Z") - 0.5, verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP
    )
    desk.opened(sent, "2026-11-03T00:00:00Z", verdict=Verdict.MACHINE, agent=Agent.PROOFPOINT)
    desk.opened(sent, "2026-11-03T08:00:00Z", verdict=Verdict.UNKNOWN)
    desk.clicked(sent, "2026-11-02T10:06:00Z")

    desk.ticket("two", "2026-11-09T09:00:00Z", "2026-11-10T17:00:00Z", team="returns")
    own = desk.send("two", "2026-11-09T10:00:00Z")
    desk.opened(own, "2026-11-10T09:00:00Z", agent=Agent.GMAIL_PROXY)
    named = desk.send("two", "2026-11-09T11:00:00Z")
    store.tickets.upsert(
        dataclasses.replace(store.tickets.get("two"), message_ids=(named.copy.message_id,))
    )
    desk.opened(named, "2026-11-10T10:00:00Z", verdict=Verdict.MACHINE, agent=None)

    desk.ticket("early", "2026-10-30T09:00:00Z", "2026-11-03T09:00:00Z")
    old = desk.send("early", "2026-10-30T10:00:00Z")
    desk.opened(old, "2026-10-30T10:00:30Z", verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP)

    desk.ticket("open", "2026-11-05T09:00:00Z")
    desk.opened(desk.send("open", "2026-11-05T10:00:00Z"), "2026-11-05T11:00:00Z")
    desk.ticket("october", "2026-10-01T09:00:00Z", "2026-10-02T09:00:00Z")
    desk.opened(desk.send("october", "2026-10-01T10:00:00Z"), "2026-11-05T11:00:00Z")
    return desk


def test_the_store_counts_opens_per_utc_day_verdict_and_agent(store: Store) -> None:
    _story(store)

    rows = store.report_series.opens_by_day(NOVEMBER.since, NOVEMBER.until)

    assert rows == [
        (_day("2026-10-30T00:00:00Z"), "machine", "apple_mpp", 1),
        (_day("2026-11-02T00:00:00Z"), "human", "mail_client", 2),
        (_day("2026-11-02T00:00:00Z"), "machine", "apple_mpp", 1),  # 23:59:59.5
        (_day("2026-11-03T00:00:00Z"), "machine", "scanner:proofpoint", 1),
        (_day("2026-11-03T00:00:00Z"), "unknown", None, 1),
        (_day("2026-11-10T00:00:00Z"), "human", "gmail_proxy", 1),
        (_day("2026-11-10T00:00:00Z"), "machine", None, 1),
    ]


def test_the_store_keeps_to_the_team_and_the_period(store: Store) -> None:
    _story(store)

    billing = store.report_series.opens_by_day(NOVEMBER.since, NOVEMBER.until, "billing")
    nobody = store.report_series.opens_by_day(NOVEMBER.since, NOVEMBER.until, "<script>")
    december = period("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")

    assert {row[0] for row in billing} == {
        _day("2026-11-02T00:00:00Z"),
        _day("2026-11-03T00:00:00Z"),
    }
    assert sum(row[3] for row in billing) == 5
    assert nobody == []
    assert store.report_series.tickets_solved(NOVEMBER.since, NOVEMBER.until, "billing") == 1
    assert store.report_series.tickets_solved(NOVEMBER.since, NOVEMBER.until, "<script>") == 0
    assert store.report_series.opens_by_day(december.since, december.until) == []


def test_the_series_buckets_each_day_and_agrees_with_the_report(store: Store) -> None:
    _story(store)

    found = opens_series(store, NOVEMBER)
    report = build_report(store, TeamBook(), NOVEMBER)

    assert found.step is Step.DAY
    assert len(found.points) == 30  # every day of November, empty ones too
    assert found.points[0].start == t("2026-11-01T00:00:00Z")
    assert found.points[-1].end == t("2026-12-01T00:00:00Z")
    by_day = {datetime.fromtimestamp(p.start, UTC).day: p.opens for p in found.points if p.total}
    assert sorted(by_day) == [2, 3, 10]
    assert _nonzero(by_day[2]) == {"person": 2, "apple_mpp": 1}
    assert _nonzero(by_day[3]) == {"scanner": 1, "unknown": 1}
    assert _nonzero(by_day[10]) == {"person": 1, "script": 1}  # Gmail's proxy for a person
    assert list(found.points[0].opens) == list(BUCKETS)
    # Apple's fetch of 30 October, on a ticket solved in November: counted, not drawn
    assert _nonzero(found.outside) == {"apple_mpp": 1}
    assert found.totals() == report.opens_by_agent
    assert found.tickets == report.outcomes.tickets_solved == 3


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: n for key, n in counts.items() if n}


def test_a_long_period_goes_by_week_then_by_month() -> None:
    monday = _day("2026-11-02T00:00:00Z")
    rows: list[DayRow] = [
        (monday, "human", "mail_client", 2),
        (monday + 6, "machine", "apple_mpp", 3),
    ]
    rows += [(monday + 7, "unknown", None, 1)]

    short = series(rows, period("2026-10-01T00:00:00Z", "2026-12-31T00:00:00Z"))  # 91 days
    weeks = series(rows, period("2026-09-01T00:00:00Z", "2027-01-01T00:00:00Z"))
    months = series(rows, period("2024-01-01T00:00:00Z", "2027-06-01T00:00:00Z"))

    assert short.step is Step.DAY and len(short.points) == 91
    assert weeks.step is Step.WEEK
    assert weeks.points[0].start == t("2026-09-01T00:00:00Z")  # a Tuesday: its week cut
    assert weeks.points[1].start == t("2026-09-07T00:00:00Z")  # Mondays after that
    week = next(p for p in weeks.points if p.start == monday * DAY)
    assert week.end == (monday + 7) * DAY
    assert _nonzero(week.opens) == {"person": 2, "apple_mpp": 3}
    assert weeks.points[-1].end == t("2027-01-01T00:00:00Z")
    assert months.step is Step.MONTH and len(months.points) == 41
    november = next(p for p in months.points if p.start == t("2026-11-01T00:00:00Z"))
    assert november.end == t("2026-12-01T00:00:00Z")
    assert _nonzero(november.opens) == {"person": 2, "apple_mpp": 3, "unknown": 1}
    assert not any(_nonzero(s.outside) for s in (short, weeks, months))


def test_centuries_chosen_are_drawn_over_the_span_the_opens_cover() -> None:
    day = _day("2026-11-02T00:00:00Z")
    rows: list[DayRow] = [(day, "human", None, 1), (day + 40, "machine", "scanner", 2)]

    found = series(rows, period("1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"))
    nothing = series([], period("1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"))

    assert found.step is Step.DAY and len(found.points) == 41
    assert sum(p.total for p in found.points) == 3 and not _nonzero(found.outside)
    assert len(nothing.points) == 1 and nothing.points[0].total == 0
