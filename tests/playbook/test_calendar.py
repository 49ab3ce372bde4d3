"""The business-hours clock against a slow reference that asks the team's wall clock about
every minute, and on weeks a support lead would check by hand (holidays, clock changes)."""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from dataclasses import dataclass

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inkling.playbook.calendar import DAY_NAMES, BusinessCalendar

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu")
# Office hours, a round-the-clock day, a long day, and two that cross the 02:00-03:00 jump.
HOURS = ("09:00-17:00", "00:00-24:00", "06:00-22:00", "01:00-05:00", "02:30-10:15")
HOLIDAYS = ("", "DE", "US-NY")
FIRST = int(datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC).timestamp())
LAST = int(datetime.datetime(2027, 12, 1, tzinfo=datetime.UTC).timestamp())
MINUTE, HOUR, DAY = 60, 3600, 86_400

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # leaves no example files in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Team:
    """One team's settings, hashable so its calendar is built once for all examples."""

    timezone: str
    workdays: tuple[str, ...]
    hours: str
    holidays: str

    @property
    def calendar(self) -> BusinessCalendar:
        return _calendar(self)


@functools.cache
def _calendar(team: Team) -> BusinessCalendar:
    return BusinessCalendar(team.timezone, team.workdays, team.hours, team.holidays)


@functools.cache
def _holiday_table(code: str) -> holidays.HolidayBase | None:
    if not code:
        return None
    country, _, subdivision = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None)


def reference_open(team: Team, minute: int) -> bool:
    """Whether the team works in the minute starting at ``minute``, read off its wall clock."""
    local = datetime.datetime.fromtimestamp(minute, zoneinfo.ZoneInfo(team.timezone))
    table = _holiday_table(team.holidays)
    if DAY_NAMES[local.weekday()] not in team.workdays:
        return False
    if table is not None and local.date() in table:
        return False
    start, _, end = team.hours.partition("-")
    now = f"{local.hour:02}:{local.minute:02}"
    return start <= now < end  # "24:00" sorts after every wall time


def reference_between(team: Team, start: int, end: int) -> int:
    return MINUTE * sum(reference_open(team, m) for m in range(start, end, MINUTE))


def reference_add(team: Team, start: int, seconds: int) -> int:
    """The end of the open minute that brings the count of open minutes to ``seconds``."""
    left, minute = seconds // MINUTE, start
    while True:
        if reference_open(team, minute):
            left -= 1
            if left == 0:
                return minute + MINUTE
        minute += MINUTE


@functools.cache
def clock_changes(timezone: str) -> tuple[int, ...]:
    """Roughly (to the hour) when the zone's offset changes within the tested years."""
    zone = zoneinfo.ZoneInfo(timezone)
    changes, before = [], None
    for t in range(FIRST, LAST, HOUR):
        offset = datetime.datetime.fromtimestamp(t, zone).utcoffset()
        if before is not None and offset != before:
            changes.append(t)
        before = offset
    return tuple(changes)


teams = st.builds(
    Team,
    st.sampled_from(ZONES),
    st.sets(st.sampled_from(DAY_NAMES), min_size=1).map(
        lambda days: tuple(d for d in DAY_NAMES if d in days)
    ),
    st.sampled_from(HOURS),
    st.sampled_from(HOLIDAYS),
)


@st.composite
def team_and_minute(draw: st.DrawFn) -> tuple[Team, int]:
    """A team and a whole minute, half the time within three days of one of its clock
    changes (random instants would rarely meet one)."""
    team = draw(teams)
    changes = clock_changes(team.timezone)
    near_a_change: bool = draw(st.booleans())
    if changes and near_a_change:
        around = draw(st.sampled_from(changes))
        return team, around + MINUTE * draw(st.integers(-3 * 1440, 3 * 1440))
    return team, FIRST + MINUTE * draw(st.integers(0, (LAST - FIRST) // MINUTE))


@given(team_and_minute(), st.integers(0, 4 * 1440))
@SETTINGS
def test_between_counts_the_minutes_the_wall_clock_shows_working(
    case: tuple[Team, int], minutes: int
) -> None:
    team, start = case
    end = start + minutes * MINUTE
    assert team.calendar.between(start, end) == reference_between(team, start, end)
    assert team.calendar.is_open(start) == reference_open(team, start)


@given(team_and_minute(), st.integers(1, 16 * 60))
@settings(SETTINGS, max_examples=150)
def test_add_ends_at_the_earliest_instant_with_that_much_work(
    case: tuple[Team, int], minutes: int
) -> None:
    team, start = case
    assert team.calendar.add(start, minutes * MINUTE) == reference_add(
        team, start, minutes * MINUTE
    )


@given(team_and_minute(), st.integers(0, 28 * DAY), st.integers(0, 28 * DAY))
@SETTINGS
def test_add_and_between_undo_each_other(case: tuple[Team, int], span: int, work: int) -> None:
    team, start = case
    calendar = team.calendar
    end = start + span
    assert calendar.add(start, calendar.between(start, end)) <= end
    assert calendar.between(start, calendar.add(start, work)) == work


@given(team_and_minute(), st.lists(st.integers(0, 21 * DAY), min_size=3, max_size=3))
@SETTINGS
def test_more_time_never_means_less_work(case: tuple[Team, int], offsets: list[int]) -> None:
    team, origin = case
    calendar = team.calendar
    a, b, c = (origin + offset for offset in sorted(offsets))
    assert calendar.between(a, c) == calendar.between(a, b) + calendar.between(b, c)
    assert calendar.add(a, b - a) <= calendar.add(a, c - a)
    assert a <= calendar.next_open(a) <= calendar.add(a, 1)
    assert calendar.is_open(calendar.next_open(a))
    assert calendar.between(a, calendar.next_open(a)) == 0


@given(teams, st.dates(datetime.date(2025, 1, 1), datetime.date(2027, 10, 1)))
@settings(SETTINGS, max_examples=60)
def test_first_working_moment_is_the_opening_of_the_next_working_day(
    team: Team, day: datetime.date
) -> None:
    calendar = team.calendar
    opening = calendar.first_working_moment_on(day)
    local = datetime.datetime.fromtimestamp(opening, zoneinfo.ZoneInfo(team.timezone))
    assert local.date() >= day
    assert reference_open(team, int(opening))
    assert not reference_open(team, int(opening) - MINUTE) or local.time() == datetime.time(0)
    # no working minute between the start of `day` and the opening
    midnight = datetime.datetime.combine(day, datetime.time(0), zoneinfo.ZoneInfo(team.timezone))
    assert calendar.between(midnight.timestamp(), opening) == 0


@given(
    team_and_minute(),
    st.floats(0, 1, exclude_max=True),
    st.floats(0, 21 * DAY),
    st.floats(0, 21 * DAY),
)
@SETTINGS
def test_fractions_of_a_second_round_trip_within_a_microsecond(
    case: tuple[Team, int], fraction: float, span: float, work: float
) -> None:
    team, minute = case
    calendar, start = team.calendar, minute + fraction
    assert calendar.add(start, calendar.between(start, start + span)) <= start + span + 1e-6
    assert abs(calendar.between(start, calendar.add(start, work)) - work) < 1e-6
