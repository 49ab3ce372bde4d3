"""One ticket's conversation, played out: the agent replies in business hours, the
customer's mail app, proxy and gateway do what they do to each reply, the person reads,
clicks and writes back, until the ticket is solved or the present stops it.

A ticket is drawn as a :class:`Plan` (who, about what, how many replies it takes); playing
it gives the ticket as the helpdesk would send it and the lines of the events import, none
later than ``now``. Each plan has its own random stream, so playing it again gives the
same story.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from inkling.demo import lines
from inkling.demo.company import DOMAIN, GUIDE_FOOTER, LINKS, Link, Team, Topic
from inkling.demo.customers import Customer
from inkling.demo.devices import Hit, at_delivery, person_click, person_open
from inkling.playbook.calendar import BusinessCalendar

MINUTE, HOUR, DAY = 60.0, 3600.0, 86_400.0
#: Share of replies answered by an out-of-office message.
AWAY = 0.03
#: A link of the topic is offered in this share of replies (before Bayes' rule).
OFFERED = 0.25
#: The share of replies customers answer, about two in three in the month.
ANSWERED = 0.65
#: Pending tickets the helpdesk solves by itself after this many business days of silence.
AUTO_SOLVE_DAYS = 3


@dataclass(frozen=True, slots=True)
class Plan:
    """A ticket as drawn: who writes, about what, when, and how many replies it takes."""

    ticket: str
    team: Team
    topic: Topic
    customer: Customer
    cc: Customer | None
    created: float
    turns: int
    priority: str
    agent: str
    #: The (status, reason) every mail to the requester bounces with, if it does.
    bounces: tuple[str, str] | None
    seed: int


@dataclass(slots=True)
class Told:
    """A plan played out until ``now``."""

    plan: Plan
    ticket: dict[str, Any]
    lines: list[lines.Line]
    replies: int
    solved_at: float | None
    #: When the requester opens another ticket (None: they do not, by ``now``).
    follow_up: float | None = None


@dataclass(slots=True)
class _Reading:
    """What the requester did with one reply."""

    lines: list[lines.Line] = field(default_factory=list)
    answer: float | None = None  # when they wrote back
    unhelped: bool = False  # they clicked a link that did not solve it


@dataclass(slots=True)
class _Play:
    plan: Plan
    clock: BusinessCalendar
    now: float
    rng: random.Random
    lines: list[lines.Line] = field(default_factory=list)
    replies: int = 0
    last: float = 0.0


def play(plan: Plan, clock: BusinessCalendar, now: float) -> Told:
    """The ticket's story until ``now`` on its team's ``clock``."""
    state = _Play(plan, clock, now, random.Random(f"{plan.seed}:{plan.ticket}:{plan.turns}"))
    state.last = plan.created
    status, solved, unhelped = _converse(state)
    if solved is not None and solved < now - 4 * DAY:
        status = "closed"  # the helpdesk closes what stayed solved for four days
    told = Told(plan, _ticket(plan, status, solved, state.last), state.lines, state.replies, solved)
    if solved is not None:
        told.follow_up = _follow_up(state, solved, unhelped)
    return told


def _converse(state: _Play) -> tuple[str, float | None, bool]:
    """Replies and answers in turn: (status, solved_at, whether a clicked link failed)."""
    plan, clock, now, rng = state.plan, state.clock, state.now, state.rng
    wrote = plan.created
    for turn in range(1, plan.turns + 1):
        median = 1.2 if turn == 1 else 2.5  # business hours to answer
        # whole seconds, as helpdesks and ESPs record a sending
        sent = float(math.floor(clock.add_hours(wrote, rng.lognormvariate(math.log(median), 0.9))))
        if sent >= now - MINUTE:
            return ("new" if turn == 1 else "open"), None, False
        last = turn == plan.turns
        reading = _reply(state, turn, sent, answered=not last or rng.random() < 0.12)
        state.replies += 1
        state.last = max(state.last, sent)
        if plan.bounces is not None:
            return _unreachable(state, sent)
        if reading.answer is None or reading.answer >= now:
            if not last or reading.answer is not None:
                return "pending", None, False
            return _quiet_end(state, sent, reading.unhelped)
        wrote = state.last = reading.answer
        if last:  # "thanks, that worked"
            solved = clock.add_hours(wrote, rng.uniform(0.1, 1.5))
            return ("solved", solved, False) if solved < now else ("open", None, False)
    raise AssertionError("a conversation ends at its last turn")


def _quiet_end(state: _Play, sent: float, unhelped: bool) -> tuple[str, float | None, bool]:
    """The last reply drew no answer: solved with it, or pending until the helpdesk
    solves it after days of silence."""
    if state.rng.random() < 0.5:
        solved = sent + state.rng.uniform(20, 120)
    else:
        solved = state.clock.add_days(sent, AUTO_SOLVE_DAYS)
    if solved >= state.now:
        return "pending", None, unhelped
    state.last = max(state.last, solved)
    return "solved", solved, unhelped


def _unreachable(state: _Play, sent: float) -> tuple[str, float | None, bool]:
    """Mail to the requester bounced: the agent tries other ways, and gives up after
    three business days."""
    solved = state.clock.add_days(sent, 3)
    if solved >= state.now:
        return "open", None, False
    state.last = max(state.last, solved)
    return "solved", solved, False


def _reply(state: _Play, turn: int, sent: float, *, answered: bool) -> _Reading:
    """One reply sent, and what came back from its recipients."""
    plan, rng = state.plan, state.rng
    chosen = _links(plan, answered, rng)
    message = f"<t{plan.ticket}.{turn}@{DOMAIN}>"
    said = plan.topic.outbound if turn == 1 and plan.topic.outbound else None
    subject = f"{said or 'Re: ' + plan.topic.subject} [#{plan.ticket}]"
    urls = [link.url for link in chosen]
    recipients = [plan.customer, *([plan.cc] if plan.cc else [])]
    for person in recipients:
        state.lines.append(
            lines.sent(
                message,
                person.email,
                sent,
                ticket=plan.ticket,
                subject=subject,
                workflow=plan.team.name,
                links=urls,
            )
        )
    if plan.bounces is not None:
        status, reason = plan.bounces
        ts = sent + rng.uniform(5, 120)
        if ts < state.now - 1:
            state.lines.append(lines.bounce(message, plan.customer.email, ts, status, reason))
        return _Reading()
    reading = _read(state, message, plan.customer, sent, chosen, answered=answered, first=turn == 1)
    if plan.cc is not None:
        other = _read(
            state, message, plan.cc, sent, chosen, answered=False, first=turn == 1, keen=0.4
        )
        reading.lines += other.lines
    state.lines += [line for line in reading.lines if line["ts"] < state.now - 1]
    return reading


def _read(
    state: _Play,
    message: str,
    person: Customer,
    sent: float,
    chosen: list[Link],
    *,
    answered: bool,
    first: bool,
    keen: float = 1.0,
) -> _Reading:
    """What one recipient's copy went through: machines at delivery, then the person."""
    rng = state.rng
    reading = _Reading([lines.delivered(message, person.email, sent + rng.uniform(0.3, 0.9))])
    hits = at_delivery(person, len(chosen), sent, rng)
    opened = sent
    if rng.random() < AWAY:
        back = _away(state, message, person, sent, reading)
        opened = max(opened, back)
    reads = answered or rng.random() < (state.plan.topic.reads if first else 0.9) * keen
    if reads:
        occasions = _occasions(person, opened, rng)
        hits += [h for ts in occasions if (h := person_open(person, ts, rng)) is not None]
        clicks = _clicks(person, chosen, occasions, rng, keen)
        hits += clicks
        reading.unhelped = any(rng.random() > chosen[h.link or 0].solves for h in clicks)
        if answered:
            done = max([occasions[0], *(h.ts for h in clicks if h.ts < occasions[0] + HOUR)])
            reading.answer = done + rng.lognormvariate(math.log(25 * MINUTE), 1.1)
            reading.lines.append(lines.reply(message, person.email, reading.answer))
    reading.lines += [lines.hit(message, person.email, h) for h in hits]
    return reading


def _away(state: _Play, message: str, person: Customer, sent: float, reading: _Reading) -> float:
    """An out-of-office reply; the person reads once back (returned: when)."""
    rng = state.rng
    local = _local(sent, person.timezone).date()
    until = local + timedelta(days=rng.randint(2, 9))
    ts = sent + rng.uniform(20, 120)
    reading.lines.append(lines.autoreply(message, person.email, ts, until))
    return _morning(until, person.timezone) + rng.uniform(0, 2 * HOUR)


def _occasions(person: Customer, after: float, rng: random.Random) -> list[float]:
    """When the person looks at the mail: soon, later that day or days later, and again
    now and then (opens half an hour or more apart are separate occasions)."""
    draw = rng.random()
    if draw < 0.35:  # waiting for the answer
        first = after + rng.lognormvariate(math.log(3 * MINUTE), 1.0)
    elif draw < 0.75:
        first = after + rng.uniform(10 * MINUTE, 8 * HOUR)
    else:
        first = after + rng.uniform(8 * HOUR, 3 * DAY)
    occasions = [_awake(first, person.timezone, rng)]
    while rng.random() < 0.45 and len(occasions) < 6:
        later = occasions[-1] + rng.uniform(45 * MINUTE, 30 * HOUR)
        occasions.append(_awake(later, person.timezone, rng))
    return occasions


def _clicks(
    person: Customer,
    chosen: list[Link],
    occasions: list[float],
    rng: random.Random,
    keen: float,
) -> list[Hit]:
    """The links the person follows, each seconds to minutes into an occasion."""
    found = []
    for index, link in enumerate(chosen):
        if rng.random() >= link.appeal * keen:
            continue
        occasion = occasions[1] if len(occasions) > 1 and rng.random() < 0.2 else occasions[0]
        ts = occasion + rng.lognormvariate(math.log(45), 1.0)
        found.append(person_click(person, index, ts, rng))
    return found


def _links(plan: Plan, answered: bool, rng: random.Random) -> list[Link]:
    """The links a reply carries: those of the topic that the agent offers, and the
    onboarding team's guide at its foot.

    The month is drawn with each ticket's number of replies fixed in advance, so whether
    the customer answers a reply is known when its links are chosen; a link is then
    offered as Bayes' rule has it: one that solves the question turns up more in replies
    that end a ticket, one that does not in replies the customer answers.
    """
    chosen = [
        LINKS[key]
        for key in plan.topic.links
        if rng.random() < OFFERED * _odds(LINKS[key], answered=answered)
    ]
    guide = LINKS["guide"]
    if plan.team.name == "onboarding" and rng.random() < GUIDE_FOOTER * _odds(
        guide, answered=answered
    ):
        chosen.append(guide)
    return chosen


def _odds(link: Link, *, answered: bool) -> float:
    """How much likelier ``link`` is in a reply that is answered (or not) than in any."""
    return (1 - link.solves) / ANSWERED if answered else link.solves / (1 - ANSWERED)


def _follow_up(state: _Play, solved: float, unhelped: bool) -> float | None:
    """When the requester writes again, on a new ticket: often when a link they followed
    did not solve it, now and then about something else."""
    rng = state.rng
    if rng.random() >= (0.45 if unhelped else 0.04):
        return None
    when = solved + rng.uniform(0.3 * DAY, 6.5 * DAY)
    return when if when < state.now - HOUR else None


def _ticket(plan: Plan, status: str, solved: float | None, last: float) -> dict[str, Any]:
    """The ticket as the helpdesk sends it (DESIGN.md, "Tickets")."""
    return {
        "id": plan.ticket,
        "subject": plan.topic.subject,
        "priority": plan.priority,
        "status": status,
        "team": plan.team.name,
        "assignee": plan.agent,
        "requester": plan.customer.email,
        "created_at": plan.created,
        "updated_at": max(last, plan.created),
        "solved_at": solved,
        "source": "demo",
    }


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(ts: float, timezone: str) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(_zone(timezone))


def _awake(ts: float, timezone: str, rng: random.Random) -> float:
    """``ts``, or the next morning if the person would be asleep then."""
    local = _local(ts, timezone)
    if 7 <= local.hour < 23:
        return ts
    day = local.date() if local.hour < 7 else local.date() + timedelta(days=1)
    return _morning(day, timezone) + rng.uniform(0, 2 * HOUR)


def _morning(day: date, timezone: str) -> float:
    """07:00 on ``day`` where the person lives."""
    return datetime(day.year, day.month, day.day, 7, tzinfo=_zone(timezone)).timestamp()
