"""A month of Acme's support, drawn ticket by ticket in the order they arrive.

Tickets arrive over the 30 days before ``now`` (``days``: a longer history, as the
dashboard's benchmark draws 100,000 tickets over six months), mostly in their team's
working hours and on weekdays; each is a newcomer's, or a follow-up of a customer who
came back after an earlier ticket was solved. Every ticket is played out
(``conversation.play``) on its team's own business-hours clock. Last, the month is settled
to exactly the number of replies asked for: a few tickets solved long ago take one reply
more or fewer.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from inkling.demo.company import TEAMS, Team, Topic, topics_of
from inkling.demo.conversation import DAY, MINUTE, Plan, Told, play
from inkling.demo.customers import Customer, Population
from inkling.demo.lines import Line
from inkling.errors import InklingError
from inkling.playbook.calendar import BusinessCalendar

DAYS = 30
FIRST_TICKET = 46_201
MAX_TURNS = 12
PRIORITIES = ("low", "normal", "high", "urgent")
#: How busy each local hour is (0-23), against the busiest: people write in working hours.
HOURLY = (0.08,) * 7 + (0.4, 0.8) + (1.0,) * 8 + (0.7, 0.5, 0.45, 0.4, 0.3, 0.2, 0.12)
WEEKEND = 0.35
#: Shares of tickets whose requester's address fails, and how (home addresses typed into
#: the web form; a full mailbox; a receiving server refusing our own sending).
BOUNCES = (("5.1.1", "userunknown", 0.012), ("5.2.2", "mailboxfull", 0.005))
SENDING_REFUSED = ("5.7.26", "authfailure", 0.002)
#: Share of company tickets that copy in a colleague.
COPIED = 0.2


@dataclass(slots=True)
class Month:
    told: list[Told]

    @property
    def tickets(self) -> list[dict[str, object]]:
        return [t.ticket for t in self.told]

    @property
    def lines(self) -> list[Line]:
        return [line for t in self.told for line in t.lines]

    @property
    def replies(self) -> int:
        return sum(t.replies for t in self.told)


def draw_month(
    clocks: Callable[[str], BusinessCalendar],
    now: float,
    *,
    seed: int,
    tickets: int,
    replies: int,
    days: int = DAYS,
    taken: frozenset[str] = frozenset(),
) -> Month:
    """``tickets`` tickets over the ``days`` before ``now`` holding exactly ``replies``
    replies, numbered from ``FIRST_TICKET`` past the numbers ``taken`` (the stories'; a
    larger desk's numbers reach them); ``clocks(team)`` is each team's business-hours
    clock."""
    rng = random.Random(seed)
    people = Population(rng)
    arrivals = ((_arrival(team, now, days, rng), team) for team in _teams(rng, tickets))
    slots = sorted(arrivals, key=_first)
    told: list[Told] = []
    returning: list[tuple[float, int]] = []  # (when, index of the earlier ticket)
    numbers = (str(n) for n in itertools.count(FIRST_TICKET) if str(n) not in taken)
    for index, (created, team) in enumerate(slots):
        plan = _plan(next(numbers), created, team, told, returning, people, rng, seed)
        told.append(play(plan, clocks(plan.team.name), now))
        if told[-1].follow_up is not None:
            heapq.heappush(returning, (told[-1].follow_up, index))
    _settle(told, replies, clocks, now, rng)
    return Month(told)


def _first(slot: tuple[float, Team]) -> float:
    return slot[0]


def _teams(rng: random.Random, count: int) -> list[Team]:
    return rng.choices(TEAMS, [team.share for team in TEAMS], k=count)


def _arrival(team: Team, now: float, days: int, rng: random.Random) -> float:
    """When a ticket to ``team`` comes in: any time in the ``days`` before ``now``, most
    likely when its customers are at work."""
    zone = ZoneInfo(team.timezone)
    while True:
        ts = rng.uniform(now - days * DAY, now - 20 * MINUTE)
        local = datetime.fromtimestamp(ts, UTC).astimezone(zone)
        weight = HOURLY[local.hour] * (WEEKEND if local.weekday() >= 5 else 1.0)
        if rng.random() < weight:
            return ts


def _plan(
    ticket: str,
    created: float,
    team: Team,
    told: list[Told],
    returning: list[tuple[float, int]],
    people: Population,
    rng: random.Random,
    seed: int,
) -> Plan:
    """The ticket arriving at ``created``: a returning customer's if one is due, else a
    newcomer's to ``team``."""
    topic: Topic
    customer: Customer
    if returning and returning[0][0] <= created:
        _, earlier = heapq.heappop(returning)
        before = told[earlier].plan
        team, topic, customer = before.team, before.topic, before.customer
    else:
        customer = people.newcomer(team)
        topics = topics_of(team.name)
        topic = rng.choices(topics, [t.weight for t in topics])[0]
    cc = people.colleague(customer) if customer.company and rng.random() < COPIED else None
    return Plan(
        ticket=ticket,
        team=team,
        topic=topic,
        customer=customer,
        cc=cc,
        created=created,
        turns=_turns(topic, rng),
        priority=rng.choices(PRIORITIES, topic.priority)[0],
        agent=rng.choices(team.agent_emails, [1.4, 1.2, *[1.0] * 6][: len(team.agents)])[0],
        bounces=_bounces(customer, rng),
        seed=seed,
    )


def _turns(topic: Topic, rng: random.Random) -> int:
    """Replies the ticket takes: one, and each time as likely one more, ``topic.turns`` on
    average."""
    more = (topic.turns - 1) / topic.turns
    turns = 1
    while turns < MAX_TURNS and rng.random() < more:
        turns += 1
    return turns


def _bounces(customer: Customer, rng: random.Random) -> tuple[str, str] | None:
    draw = rng.random()
    if customer.company is None:
        for status, reason, share in BOUNCES:
            if draw < share:
                return status, reason
            draw -= share
    status, reason, share = SENDING_REFUSED
    return (status, reason) if draw < share else None


def _settle(
    told: list[Told],
    wanted: int,
    clocks: Callable[[str], BusinessCalendar],
    now: float,
    rng: random.Random,
) -> None:
    """Give or take a reply on tickets solved weeks ago, until the month holds exactly
    ``wanted`` replies (a ticket others follow up on is left alone: its story stands)."""
    followed = {t.plan.customer.email for t in told if t.follow_up is not None}
    movable = [
        i
        for i, t in enumerate(told)
        if t.solved_at is not None
        and t.solved_at < now - 7 * DAY
        and t.plan.customer.email not in followed
        and t.plan.bounces is None
        and t.plan.topic.outbound is None  # a notice stays a notice
    ]
    total = sum(t.replies for t in told)
    for _ in range(100 * len(told)):
        if total == wanted:
            return
        step = 1 if total < wanted else -1
        i = rng.choice(movable)
        turns = told[i].plan.turns + step
        if not 1 <= turns <= MAX_TURNS:
            continue
        again = play(replace(told[i].plan, turns=turns), clocks(told[i].plan.team.name), now)
        solved = again.solved_at
        if again.replies - told[i].replies != step or solved is None or solved >= now - 2 * DAY:
            continue
        total += step
        told[i] = again
    raise InklingError(f"the demo month could not be settled at {wanted} replies ({total})")
