"""The team's business-hours clock: how much working time lies between two instants, and
when a span of working time runs out.

One rule decides everything: an instant is *open* when the team's own wall clock, in its
time zone, shows one of its workdays that is not a public holiday, at a time within its
hours (start included, end excluded). Daylight-saving time follows from that rule:

* Spring forward: wall-clock times that never show are not worked. On the last Sunday of
  March in Berlin a team on ``00:00-24:00`` works 23 real hours and one on ``01:00-05:00``
  works 3 (01:00-02:00 CET, then 03:00-05:00 CEST): the hour 02:00-03:00 does not exist, so
  it is not counted. Hours that open inside the jump (``02:30``) open when the clock jumps.
* Fall back: the repeated hour shows twice and is worked twice: ``00:00-24:00`` is 25 real
  hours that day in Berlin. Hours that open at 02:30 that day open at the first 02:30,
  close when the clock goes back to 02:00, and open again at the second 02:30.

An instant belongs to the date its wall clock shows, so a holiday is the day as the team's
clock counts it, and the same holds around a clock change at midnight.

A *business day* is the length of the hours on the wall clock (``day_hours``: 8.0 for
``09:00-17:00``), so ``add_days(t, 1)`` always adds that much working time; only a team
whose hours cover a clock change sees a business day end an hour off on the wall clock.

How it is fast: a calendar year of working intervals (UTC, whole seconds) is built the
first time an instant in or near that year is asked about, with running sums of working
seconds. ``between`` and ``add`` are then two binary searches, whatever the span, and a
call costs a few microseconds (``bench/business_hours.py``).
"""

from __future__ import annotations

import bisect
import datetime
import functools
import math
import re
import threading
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

import holidays as holidays_package

__all__ = ["DAY_NAMES", "BusinessCalendar", "Hours"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
_DAY = 86_400
_UTC = datetime.UTC
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
# Years whose working time can be asked about; the holidays package and the zone data are
# only meaningful well inside datetime's own range.
MIN_YEAR, MAX_YEAR = 1900, 2999
# Offsets are sampled this often to find clock changes; no zone changes twice this fast.
_SAMPLE_SECONDS = 3 * 3600
_HOURS_PATTERN = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class Hours:
    """A team's working hours on its wall clock; ``end`` is ``datetime.time.max`` for
    24:00 (midnight at the day's end), the one way to say "until midnight"."""

    start: datetime.time
    end: datetime.time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"hours {self}: the end must come after the start, on one day")

    @classmethod
    def parse(cls, text: str) -> Hours:
        """``"09:00-17:00"`` (or ``"00:00-24:00"``) as Hours; ValueError otherwise."""
        match = _HOURS_PATTERN.fullmatch(text.strip())
        if match is None:
            raise ValueError(f'hours must look like "09:00-17:00", not {text!r}')
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h, end_m) > (24, 0):
            raise ValueError(f"hours {text!r}: a time must be 00:00 to 24:00")
        end = datetime.time.max if end_h == 24 else datetime.time(end_h, end_m)
        if end <= datetime.time(start_h, start_m):
            raise ValueError(f"hours {text!r}: the end must come after the start, on one day")
        return cls(datetime.time(start_h, start_m), end)

    @property
    def start_seconds(self) -> int:
        """Seconds from midnight to the opening."""
        return _seconds_of(self.start)

    @property
    def end_seconds(self) -> int:
        """Seconds from midnight to the closing (86,400 for 24:00)."""
        return _DAY if self.end == datetime.time.max else _seconds_of(self.end)

    def __str__(self) -> str:
        end = "24:00" if self.end == datetime.time.max else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


def _seconds_of(moment: datetime.time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@dataclass(frozen=True)
class _Year:
    """One local calendar year: its open intervals (UTC seconds, in order, maybe touching)
    and the first open instant of each working date (for ``first_working_moment_on``)."""

    intervals: tuple[tuple[int, int], ...]
    openings: dict[datetime.date, int]


@dataclass(frozen=True)
class _Timeline:
    """The open intervals of the years ``first_year``..``last_year``, merged, with the
    working seconds before each opening (``before``) and by each closing (``after``).

    Every open instant in [covers_from, covers_until) is in it: a day's margin inside the
    years keeps any instant's local date (offsets are under a day) within them."""

    first_year: int
    last_year: int
    opens: list[int]
    closes: list[int]
    before: list[int]
    after: list[int]
    covers_from: int
    covers_until: int

    def covers(self, low: float, high: float) -> bool:
        return self.covers_from <= low and high < self.covers_until

    def index(self, t: float) -> int:
        """The last interval opening at or before ``t`` (-1 if none)."""
        return bisect.bisect_right(self.opens, t) - 1

    def is_open(self, t: float) -> bool:
        i = self.index(t)
        return i >= 0 and t < self.closes[i]


class BusinessCalendar:
    """A team's clock: its time zone, workdays, hours and public holidays.

    Times in and out are Unix seconds (floats, UTC). Safe to share between threads: years
    are added under a lock, and readers see one finished timeline or the next."""

    def __init__(
        self,
        timezone: str = "UTC",
        workdays: Iterable[str] = DAY_NAMES[:5],
        hours: str = "09:00-17:00",
        holidays: str = "",
    ) -> None:
        self.timezone = timezone
        _check_zone(timezone)
        self.workdays = _workdays(workdays)
        self._weekdays = frozenset(DAY_NAMES.index(day) for day in self.workdays)
        self.hours = Hours.parse(hours)
        self.holidays = _holidays_code(holidays)
        self.day_hours: float = (self.hours.end_seconds - self.hours.start_seconds) / 3600
        self._years: dict[int, _Year] = {}
        self._lock = threading.Lock()
        self._timeline: _Timeline | None = None

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(timezone={self.timezone!r}, workdays={list(self.workdays)!r}, "
            f"hours={str(self.hours)!r}, holidays={self.holidays!r})"
        )

    def is_open(self, t: float) -> bool:
        """Whether the team is working at ``t``."""
        return self._covering(t, t).is_open(t)

    def next_open(self, t: float) -> float:
        """``t`` if the team is working then, else the next instant it starts working."""
        timeline = self._covering(t, t)
        while True:
            i = timeline.index(t)
            if i >= 0 and t < timeline.closes[i]:
                return t
            if i + 1 < len(timeline.opens) and timeline.opens[i + 1] < timeline.covers_until:
                return float(timeline.opens[i + 1])
            timeline = self._grown(timeline, 1)

    def between(self, start: float, end: float) -> float:
        """Working seconds in [start, end); 0 if ``end`` is not after ``start``."""
        if not end > start:
            return 0.0
        timeline = self._covering(start, end)
        i, j = timeline.index(start), timeline.index(end)
        whole = (timeline.before[j] if j >= 0 else 0) - (timeline.before[i] if i >= 0 else 0)
        return float(whole + (_into(timeline, j, end) - _into(timeline, i, start)))

    def add(self, start: float, seconds: float) -> float:
        """The earliest instant ``u`` with ``between(start, u) == seconds``: landing on a
        closing gives that closing (17:00), not the next opening. ``add(t, 0)`` is ``t``."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"business time to add must be zero or more seconds, not {seconds}")
        if seconds == 0:
            return start
        timeline = self._covering(start, start)
        years = 1
        while (found := _add_within(timeline, start, seconds)) is None:
            timeline = self._grown(timeline, years)
            years *= 2  # a long span needs few rebuilds
        return found

    def add_hours(self, start: float, hours: float) -> float:
        """``add`` with business hours."""
        return self.add(start, hours * 3600)

    def add_days(self, start: float, days: float) -> float:
        """``add`` with business days of ``day_hours`` each (8 hours with the defaults)."""
        return self.add(start, days * self.day_hours * 3600)

    def first_working_moment_on(self, day: datetime.date) -> float:
        """The opening of the first working day on or after ``day`` (for "back on the 12th":
        the team's first working hour that day, or after the weekend or holiday)."""
        if not MIN_YEAR <= day.year < MAX_YEAR - 10:
            raise ValueError(
                f"date {day.isoformat()} is outside the years {MIN_YEAR} to {MAX_YEAR}"
            )
        for offset in range(3660):  # ten years: every real calendar has a working day
            date = day + datetime.timedelta(days=offset)
            opening = self._year(date.year).openings.get(date)
            if opening is not None:
                return float(opening)
        raise ValueError(f"no working day in the ten years from {day.isoformat()}")

    def works_on(self, date: datetime.date) -> bool:
        """Whether ``date`` is a workday that is not a public holiday."""
        return date.weekday() in self._weekdays and date not in _holiday_dates(
            self.holidays, date.year
        )

    def _covering(self, low: float, high: float) -> _Timeline:
        timeline = self._timeline
        if timeline is not None and timeline.covers(low, high):
            return timeline
        first, last = _utc_year(low) - 1, _utc_year(high) + 1
        if timeline is not None:
            first, last = min(first, timeline.first_year), max(last, timeline.last_year)
        return self._build(first, last)

    def _grown(self, timeline: _Timeline, years: int) -> _Timeline:
        if timeline.last_year >= MAX_YEAR:
            raise ValueError(f"that much business time runs past the year {MAX_YEAR}")
        return self._build(timeline.first_year, min(timeline.last_year + years, MAX_YEAR))

    def _build(self, first: int, last: int) -> _Timeline:
        with self._lock:
            current = self._timeline
            if current is not None:  # another thread may have built more meanwhile
                if current.first_year <= first and last <= current.last_year:
                    return current
                first, last = min(first, current.first_year), max(last, current.last_year)
            intervals = [
                span for year in range(first, last + 1) for span in self._year(year).intervals
            ]
            timeline = _timeline(first, last, intervals)
            self._timeline = timeline
            return timeline

    def _year(self, year: int) -> _Year:
        built = self._years.get(year)
        if built is None:
            built = self._years[year] = _build_year(self, year)
        return built


def _add_within(timeline: _Timeline, start: float, seconds: float) -> float | None:
    """``add`` on one timeline; None if the answer lies beyond what it covers."""
    i = timeline.index(start)
    if i >= 0 and start < timeline.closes[i]:
        room = timeline.closes[i] - start
        if seconds <= room:
            return start + seconds
        base, rest = timeline.after[i], seconds - room
    else:
        base, rest = (timeline.after[i] if i >= 0 else 0), seconds
    k = bisect.bisect_left(timeline.after, base + rest)
    if k == len(timeline.after):
        return None
    found = timeline.opens[k] + ((base - timeline.before[k]) + rest)
    return found if found < timeline.covers_until else None


def _into(timeline: _Timeline, i: int, t: float) -> float:
    """Working seconds from interval ``i``'s opening to ``t`` (at most its length)."""
    if i < 0:
        return 0.0
    return min(t, timeline.closes[i]) - timeline.opens[i]


def _build_year(calendar: BusinessCalendar, year: int) -> _Year:
    """The open intervals of the working dates of local ``year``."""
    pieces = _offset_pieces(calendar.timezone, year)
    start, end = calendar.hours.start_seconds, calendar.hours.end_seconds
    intervals: list[tuple[int, int]] = []
    openings: dict[datetime.date, int] = {}
    date = datetime.date(year, 1, 1)
    while date.year == year:
        if calendar.works_on(date):
            midnight = (date.toordinal() - _EPOCH_ORDINAL) * _DAY  # the wall clock as if UTC
            spans = _wall_to_utc(pieces, midnight + start, midnight + end)
            if spans:
                openings[date] = spans[0][0]
                intervals.extend(spans)
        date += datetime.timedelta(days=1)
    intervals.sort()
    return _Year(tuple(intervals), openings)


def _wall_to_utc(
    pieces: tuple[tuple[int, int, int], ...], wall_from: int, wall_until: int
) -> list[tuple[int, int]]:
    """The UTC instants whose wall clock reads within [wall_from, wall_until): in each
    stretch of one offset, the window shifted by that offset, cut to the stretch."""
    spans: list[tuple[int, int]] = []
    for low, high, offset in pieces:
        begin, finish = max(low, wall_from - offset), min(high, wall_until - offset)
        if begin < finish:
            spans.append((begin, finish))
    return spans


def _timeline(first: int, last: int, intervals: list[tuple[int, int]]) -> _Timeline:
    """Merge touching intervals (a round-the-clock week is one) and sum working seconds."""
    opens: list[int] = []
    closes: list[int] = []
    for begin, finish in sorted(intervals):
        if closes and begin <= closes[-1]:
            closes[-1] = max(closes[-1], finish)
        else:
            opens.append(begin)
            closes.append(finish)
    before: list[int] = []
    after: list[int] = []
    total = 0
    for begin, finish in zip(opens, closes, strict=True):
        before.append(total)
        total += finish - begin
        after.append(total)
    covers_from = (datetime.date(first, 1, 1).toordinal() - _EPOCH_ORDINAL + 1) * _DAY
    covers_until = (datetime.date(last + 1, 1, 1).toordinal() - _EPOCH_ORDINAL - 1) * _DAY
    return _Timeline(first, last, opens, closes, before, after, covers_from, covers_until)


@functools.lru_cache(maxsize=512)
def _offset_pieces(timezone: str, year: int) -> tuple[tuple[int, int, int], ...]:
    """Stretches (UTC from, UTC until, offset in seconds) of one UTC offset covering local
    ``year`` with two days to spare on each side."""
    zone = zoneinfo.ZoneInfo(timezone)
    low = (datetime.date(year, 1, 1).toordinal() - _EPOCH_ORDINAL - 2) * _DAY
    high = (datetime.date(year + 1, 1, 1).toordinal() - _EPOCH_ORDINAL + 2) * _DAY
    pieces: list[tuple[int, int, int]] = []
    begin, offset = low, _offset(zone, low)
    for sample in range(low + _SAMPLE_SECONDS, high + _SAMPLE_SECONDS, _SAMPLE_SECONDS):
        if _offset(zone, sample) != offset:
            change = _first_change(zone, sample - _SAMPLE_SECONDS, sample, offset)
            pieces.append((begin, change, offset))
            begin, offset = change, _offset(zone, change)
    pieces.append((begin, high + _SAMPLE_SECONDS, offset))
    return tuple(pieces)


def _first_change(zone: zoneinfo.ZoneInfo, same: int, changed: int, offset: int) -> int:
    """The first second in (same, changed] whose offset is no longer ``offset``."""
    while changed - same > 1:
        middle = (same + changed) // 2
        if _offset(zone, middle) == offset:
            same = middle
        else:
            changed = middle
    return changed


def _offset(zone: zoneinfo.ZoneInfo, t: int) -> int:
    delta = datetime.datetime.fromtimestamp(t, zone).utcoffset() or datetime.timedelta(0)
    return int(delta.total_seconds())


@functools.lru_cache(maxsize=2048)
def _holiday_dates(code: str, year: int) -> frozenset[datetime.date]:
    """The public holidays of ``code`` ("DE", "US-NY") in ``year``, from the holidays
    package; none for no code. Cached: every team with that code shares the lookup."""
    if not code:
        return frozenset()
    country, _, subdivision = code.partition("-")
    table = holidays_package.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(table)


def _check_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f'timezone {name!r} is not an IANA time zone (write one like "Europe/Berlin")'
        ) from exc


def _workdays(names: Iterable[str]) -> tuple[str, ...]:
    """The day names in week order; ValueError for a name that is not one."""
    if isinstance(names, str):
        raise ValueError(f'workdays must be a list of day names like ["mon", "tue"], not {names!r}')
    wanted = set()
    for name in names:
        day = str(name).strip().lower()
        if day not in DAY_NAMES:
            raise ValueError(f"workdays: {name!r} is not a day name (write {', '.join(DAY_NAMES)})")
        wanted.add(day)
    if not wanted:
        raise ValueError("workdays is empty: name at least one day (mon, tue, ...)")
    return tuple(day for day in DAY_NAMES if day in wanted)


def _holidays_code(code: str) -> str:
    """``code`` as the holidays package writes it ("DE", "US-NY"); ValueError naming how to
    write it for a country or subdivision the package does not know."""
    text = code.strip()
    if not text:
        return ""
    supported = holidays_package.list_supported_countries()
    country, dash, subdivision = text.partition("-")
    country = country.upper()
    if country not in supported:
        raise ValueError(
            f"holidays {code!r} is not a country of the holidays package: write a country "
            f'code ("DE") or a country and subdivision ("US-NY")'
        )
    if not dash:
        return country
    known = {name.upper(): name for name in supported[country]}
    if subdivision.upper() not in known:
        listed = ", ".join(name for name in supported[country][:20])
        more = ", ..." if len(supported[country]) > 20 else ""
        raise ValueError(
            f"holidays {code!r}: {country} has no subdivision {subdivision!r} "
            f'(write "{country}" or "{country}-" and one of {listed}{more})'
        )
    return f"{country}-{known[subdivision.upper()]}"


def _utc_year(t: float) -> int:
    """The UTC year of ``t``; ValueError for a time outside the years the clock knows."""
    try:
        year = datetime.datetime.fromtimestamp(t, _UTC).year
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"time {t!r} is not a usable Unix time") from exc
    if not MIN_YEAR < year < MAX_YEAR:
        raise ValueError(f"time {t!r} is outside the years {MIN_YEAR + 1} to {MAX_YEAR - 1}")
    return year
