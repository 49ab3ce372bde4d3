"""Weeks a support lead would check by hand: long weekends, clock changes, teams far away,
and settings written wrong."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

import holidays
import pytest

from inkling.playbook.calendar import BusinessCalendar, Hours
from inkling.times import iso, parse_time

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOUR = 3600


def at(text: str) -> float:
    return parse_time(text, "test time")


def test_defaults_are_an_eight_hour_weekday_in_utc() -> None:
    calendar = BusinessCalendar()
    assert calendar.day_hours == 8.0
    assert calendar.is_open(at("2026-12-07T09:00:00Z"))  # a Monday
    assert not calendar.is_open(at("2026-12-07T17:00:00Z"))
    assert not calendar.is_open(at("2026-12-05T12:00:00Z"))  # a Saturday
    assert calendar.next_open(at("2026-12-04T18:00:00Z")) == at("2026-12-07T09:00:00Z")


def test_a_day_ending_exactly_at_closing_ends_at_closing_not_next_morning() -> None:
    calendar = BusinessCalendar()
    assert iso(calendar.add_hours(at("2026-12-07T09:00:00Z"), 8)) == "2026-12-07T17:00:00Z"
    assert iso(calendar.add_days(at("2026-12-07T12:00:00Z"), 1)) == "2026-12-08T12:00:00Z"
    closed = at("2026-12-05T12:00:00Z")
    assert calendar.add(closed, 0) == closed


def test_friday_afternoon_plus_a_day_skips_whit_monday_in_germany() -> None:
    assert datetime.date(2026, 5, 25) in holidays.country_holidays("DE", years=2026)
    calendar = BusinessCalendar("Europe/Berlin", holidays="DE")
    due = calendar.add_days(at("2026-05-22T15:00:00+02:00"), 1)
    assert iso(due) == iso(at("2026-05-26T15:00:00+02:00"))  # Tuesday 15:00
    assert calendar.first_working_moment_on(datetime.date(2026, 5, 23)) == at(
        "2026-05-26T09:00:00+02:00"
    )


def test_friday_afternoon_plus_a_day_skips_labor_day_in_new_york() -> None:
    assert datetime.date(2026, 9, 7) in holidays.country_holidays("US", subdiv="NY", years=2026)
    calendar = BusinessCalendar("America/New_York", holidays="US-NY")
    due = calendar.add_days(at("2026-09-04T15:00:00-04:00"), 1)
    assert iso(due) == iso(at("2026-09-08T15:00:00-04:00"))
    assert calendar.between(at("2026-09-04T15:00:00-04:00"), due) == 8 * HOUR


def test_without_the_holiday_setting_the_monday_is_worked() -> None:
    calendar = BusinessCalendar("Europe/Berlin")
    due = calendar.add_days(at("2026-05-22T15:00:00+02:00"), 1)
    assert iso(due) == iso(at("2026-05-25T15:00:00+02:00"))


def test_office_hours_keep_to_the_wall_clock_across_berlins_spring_forward() -> None:
    calendar = BusinessCalendar("Europe/Berlin")
    friday = at("2026-03-27T15:00:00+01:00")  # clocks go forward on Sunday the 29th
    assert iso(calendar.add_days(friday, 1)) == "2026-03-30T13:00:00Z"  # Monday 15:00 CEST
    assert calendar.between(friday, at("2026-03-30T15:00:00+02:00")) == 8 * HOUR


def test_office_hours_keep_to_the_wall_clock_across_new_yorks_fall_back() -> None:
    calendar = BusinessCalendar("America/New_York")
    friday = at("2026-10-30T15:00:00-04:00")  # clocks go back on Sunday 1 November
    assert iso(calendar.add_days(friday, 1)) == "2026-11-02T20:00:00Z"  # Monday 15:00 EST
    assert calendar.next_open(friday + 3 * HOUR) == at("2026-11-02T09:00:00-05:00")


def test_a_round_the_clock_team_works_the_real_hours_of_a_short_and_a_long_day() -> None:
    calendar = BusinessCalendar("Europe/Berlin", EVERY_DAY, "00:00-24:00")
    assert calendar.day_hours == 24.0
    spring = at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00")
    autumn = at("2026-10-25T00:00:00+02:00"), at("2026-10-26T00:00:00+01:00")
    assert calendar.between(*spring) == 23 * HOUR
    assert calendar.between(*autumn) == 25 * HOUR
    # a business day is 24 hours of work, so from the short day's midnight it ends at 01:00
    assert calendar.add_days(spring[0], 1) == at("2026-03-30T01:00:00+02:00")
    week = at("2026-03-23T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00")
    assert calendar.between(*week) == 167 * HOUR


def test_hours_that_include_the_missing_hour_count_only_the_hours_that_happen() -> None:
    calendar = BusinessCalendar("America/New_York", EVERY_DAY, "01:00-05:00")
    spring = at("2026-03-08T00:00:00-05:00"), at("2026-03-09T00:00:00-04:00")
    autumn = at("2026-11-01T00:00:00-04:00"), at("2026-11-02T00:00:00-05:00")
    assert calendar.between(*spring) == 3 * HOUR  # 02:00-03:00 never shows
    assert calendar.between(*autumn) == 5 * HOUR  # 01:00-02:00 shows twice
    # 01:59:59 EST is followed by 03:00:00 EDT: one real second
    assert calendar.between(at("2026-03-08T01:59:59-05:00"), at("2026-03-08T03:00:00-04:00")) == 1
    assert calendar.between(at("2026-03-08T01:00:00-05:00"), at("2026-03-08T04:00:00-04:00")) == (
        2 * HOUR
    )


def test_hours_that_open_inside_the_missing_hour_open_when_the_clock_jumps() -> None:
    calendar = BusinessCalendar("Europe/Berlin", EVERY_DAY, "02:30-10:00")
    jump = at("2026-03-29T03:00:00+02:00")
    assert calendar.first_working_moment_on(datetime.date(2026, 3, 29)) == jump
    assert not calendar.is_open(jump - 1)
    assert calendar.between(jump, at("2026-03-29T12:00:00+02:00")) == 7 * HOUR


def test_hours_that_open_inside_the_repeated_hour_open_at_both_showings() -> None:
    calendar = BusinessCalendar("Europe/Berlin", EVERY_DAY, "02:30-10:00")
    first, second = at("2026-10-25T02:30:00+02:00"), at("2026-10-25T02:30:00+01:00")
    assert calendar.first_working_moment_on(datetime.date(2026, 10, 25)) == first
    assert calendar.between(first, second) == 30 * 60  # 02:30-03:00 CEST; 02:00-02:30 CET off
    assert calendar.between(first, at("2026-10-25T10:00:00+01:00")) == 8 * HOUR


def test_a_sydney_team_skips_labour_day_and_the_clock_change_on_one_weekend() -> None:
    # NSW moves its clocks forward on Sunday 4 October 2026; Monday the 5th is Labour Day
    assert datetime.date(2026, 10, 5) in holidays.country_holidays("AU", subdiv="NSW", years=2026)
    calendar = BusinessCalendar("Australia/Sydney", holidays="AU-NSW")
    friday = at("2026-10-02T15:00:00+10:00")
    assert calendar.add_days(friday, 1) == at("2026-10-06T15:00:00+11:00")
    assert calendar.add_days(friday, 0.5) == at("2026-10-06T11:00:00+11:00")


def test_lord_howe_moves_its_clock_by_half_an_hour() -> None:
    calendar = BusinessCalendar("Australia/Lord_Howe", EVERY_DAY, "00:00-24:00")
    day = datetime.date(2026, 10, 4)
    start = calendar.first_working_moment_on(day)
    end = calendar.first_working_moment_on(day + datetime.timedelta(days=1))
    assert calendar.between(start, end) == 23.5 * HOUR


def test_kathmandus_quarter_hour_offset() -> None:
    calendar = BusinessCalendar("Asia/Kathmandu")
    assert calendar.first_working_moment_on(datetime.date(2026, 12, 7)) == at(
        "2026-12-07T03:15:00Z"
    )


def test_a_round_the_clock_team_in_utc_adds_plain_days() -> None:
    calendar = BusinessCalendar("UTC", EVERY_DAY, "00:00-24:00")
    start = at("2026-12-31T20:30:00Z")
    assert calendar.add_days(start, 3) == start + 3 * 86_400
    assert calendar.between(start, start + 14 * 86_400) == 14 * 86_400
    assert calendar.next_open(start) == start


def test_long_spans_and_far_years_are_counted_too() -> None:
    calendar = BusinessCalendar(holidays="DE")
    start = at("2026-01-05T09:00:00Z")
    later = calendar.add_days(start, 2_500)  # about ten years of business days
    assert calendar.between(start, later) == 2_500 * 8 * HOUR
    assert calendar.between(at("2090-01-01T00:00:00Z"), at("2090-01-08T00:00:00Z")) > 0


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("timezone", "Mars/Olympus", "not an IANA time zone"),
        ("timezone", "", "not an IANA time zone"),
        ("workdays", ["mon", "funday"], "'funday' is not a day name"),
        ("workdays", [], "workdays is empty"),
        ("workdays", "mon", "must be a list of day names"),
        ("hours", "9 to 5", 'must look like "09:00-17:00"'),
        ("hours", "17:00-09:00", "end must come after the start"),
        ("hours", "09:00-24:30", "must be 00:00 to 24:00"),
        ("holidays", "Narnia", "not a country of the holidays package"),
        ("holidays", "US-ZZ", 'US has no subdivision \'ZZ\' (write "US" or "US-" and one of AK'),
    ],
)
def test_a_bad_setting_gets_one_line_naming_it(setting: str, value: object, words: str) -> None:
    with pytest.raises(ValueError, match=setting) as caught:
        BusinessCalendar(**{setting: value})  # type: ignore[arg-type]
    message = str(caught.value)
    assert words in message
    assert "\n" not in message
    assert message.startswith(setting)


def test_a_setting_with_control_characters_is_shown_escaped() -> None:
    with pytest.raises(ValueError, match="timezone") as caught:
        BusinessCalendar(timezone="\x1b[2JEurope/Berlin")
    assert "\x1b" not in str(caught.value)


def test_holiday_codes_are_written_as_the_holidays_package_writes_them() -> None:
    assert BusinessCalendar(holidays=" us-ny ").holidays == "US-NY"
    assert BusinessCalendar(holidays="de").holidays == "DE"


def test_hours_read_and_print_the_same_way() -> None:
    assert str(Hours.parse("9:00-17:30")) == "09:00-17:30"
    assert Hours.parse("00:00-24:00").end_seconds == 86_400
    with pytest.raises(ValueError, match="end must come after the start"):
        Hours(datetime.time(17), datetime.time(9))


def test_negative_business_time_is_refused() -> None:
    with pytest.raises(ValueError, match="zero or more seconds"):
        BusinessCalendar().add(0.0, -1.0)


def test_threads_sharing_a_new_calendar_get_the_answers_one_thread_gets() -> None:
    # each call may add years to the calendar while the others read it
    starts = [at(f"{year}-06-05T15:00:00Z") for year in range(2020, 2040)] * 5
    alone = BusinessCalendar("Europe/Berlin", holidays="DE")
    expected = [alone.add_days(start, 3) for start in starts]
    shared = BusinessCalendar("Europe/Berlin", holidays="DE")
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda start: shared.add_days(start, 3), starts)) == expected
