"""The demo drawn larger (``bench/dashboard.py``'s 100,000 tickets over six months): the
tickets and replies asked for, spread over the days asked for, stored through the same
intake on each backend. The demo's own month stays what it was."""

from __future__ import annotations

import random
from dataclasses import replace

from inkling.classify import Classifier
from inkling.demo import TEAMS, Freshness, fill, freshness
from inkling.demo.customers import Population
from inkling.demo.month import DAYS, draw_month
from inkling.demo.stories import write_stories
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.teams import Team, TeamBook
from inkling.providers import Importer
from inkling.store import Store

DAY = 86_400.0
#: A Wednesday morning in Berlin, in the past (as in tests/e2e/test_demo.py).
NOW = 1_795_598_400.0


def _teams() -> TeamBook:
    return TeamBook(
        {
            t.name: Team(t.name, BusinessCalendar(t.timezone, hours=t.hours, holidays=t.holidays))
            for t in TEAMS
        }
    )


BOOK = _teams()


def _clocks(name: str) -> BusinessCalendar:
    return BOOK.team(name).calendar


def _created(ticket: dict[str, object]) -> float:
    value = ticket["created_at"]
    assert isinstance(value, float)
    return value


def test_a_longer_history_holds_the_tickets_and_replies_asked_for_over_its_days() -> None:
    month = draw_month(_clocks, NOW, seed=11, tickets=300, replies=900, days=90)
    created = [_created(t) for t in month.tickets]
    assert (len(month.tickets), month.replies) == (300, 900)
    assert NOW - 90 * DAY <= min(created) < NOW - 60 * DAY
    assert max(created) < NOW


def test_a_larger_desks_ticket_numbers_pass_by_the_stories() -> None:
    """The stories are numbered just after the demo's month: a larger desk's numbers reach
    them, and skip them (a story's ticket never takes over a drawn one)."""
    stories = frozenset(str(s.ticket["id"]) for s in write_stories(_clocks, NOW))
    month = draw_month(_clocks, NOW, seed=11, tickets=2100, replies=6300, taken=stories)
    numbers = [str(t["id"]) for t in month.tickets]
    assert len(set(numbers)) == 2100 and not stories & set(numbers)
    assert max(int(n) for n in numbers) > max(int(n) for n in stories)


def test_the_demos_own_month_is_unchanged_by_the_option() -> None:
    given = draw_month(_clocks, NOW, seed=11, tickets=100, replies=300)
    explicit = draw_month(_clocks, NOW, seed=11, tickets=100, replies=300, days=DAYS)
    assert given.tickets == explicit.tickets and given.lines == explicit.lines
    created = [_created(t) for t in given.tickets]
    assert min(created) >= NOW - 30 * DAY


def test_a_larger_desk_fills_the_store_through_the_same_intake(store: Store) -> None:
    filled = fill(
        store, Importer(store, Classifier()), BOOK, now=NOW, tickets=150, replies=450, days=60
    )
    assert (filled.tickets, filled.replies) == (150, 450)
    assert freshness(store) is Freshness.DEMO
    open_now = store.tickets.open_threads(NOW)
    solved = store.reports.rows(NOW - 400 * DAY, NOW + DAY).tickets
    assert len(open_now) == filled.open_tickets
    assert len(open_now) + len(solved) == 150
    assert min(row[3] for row in solved) < NOW - 35 * DAY  # older than the demo's month


def test_a_larger_desk_meets_more_people_than_the_short_numbers_hold() -> None:
    """At home, first.last plus two digits holds about 7,000 people a mail domain: past
    that, every newcomer still gets an address of their own."""
    at_home = replace(TEAMS[0], corporate=0.0)
    people = Population(random.Random(11))
    emails = [people.newcomer(at_home).email for _ in range(20_000)]
    assert len(set(emails)) == len(emails)
