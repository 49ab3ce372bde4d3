"""Filling a fresh data dir with the demo, through the same intake as real data.

Tickets go in as the helpdesk integration stores them (``parse_ticket``, then
``store.tickets``); replies, opens, clicks, customers' answers, bounces and out-of-office
replies as lines of an events import (``providers.Importer``, in its batches: sends
registered a table at a time, hits judged by the real classifier with each message's
history, stored with no commit per event). Then the team: the support lead, who signs in
with a password made for this demo and printed once, and the twenty agents.

A data dir that holds anything else is left alone (:func:`freshness` says so first): the
demo's tickets would mix with real ones.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from inkling.demo.company import LEAD, TEAMS
from inkling.demo.month import DAYS, draw_month
from inkling.demo.stories import Story, write_stories
from inkling.errors import InklingError
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.teams import TeamBook
from inkling.providers import Importer
from inkling.providers.reading import converted
from inkling.store import Search, Store
from inkling.tickets.upsert import parse_ticket
from inkling.web.passwords import Passwords

#: The month drawn is always the same for the same seed (and the same ``now``).
SEED = 11
TICKETS = 2000
REPLIES = 6000
#: A message only the demo sends: its presence says the demo filled this store.
MARKER = "<demo-sso-scim@demo.inkling.example>"
#: Tickets stored in one transaction.
TICKET_BATCH = 500

#: Told of the work done so far and the whole: ``progress(done, total)``.
Progress = Callable[[int, int], None]


class Freshness(StrEnum):
    EMPTY = "empty"  # nothing stored yet: the demo may fill it
    DEMO = "demo"  # the demo filled it before
    OTHER = "other"  # it holds someone's data


@dataclass(frozen=True, slots=True)
class Filled:
    teams: int
    agents: int
    tickets: int
    open_tickets: int
    replies: int
    events: int
    lead: str
    password: str
    stories: list[Story]


def freshness(store: Store) -> Freshness:
    """Whether ``store`` is empty, the demo's, or someone's."""
    if store.messages.copies_of(MARKER):
        return Freshness.DEMO
    if store.messages.search(Search(limit=1)) or store.accounts.users():
        return Freshness.OTHER
    if store.accounts.api_keys() or _holds_tickets(store):
        return Freshness.OTHER
    return Freshness.EMPTY


def _holds_tickets(store: Store) -> bool:
    """Any ticket at all: an open one, or one solved at any time."""
    if store.tickets.open_threads(time.time() + 86_400):
        return True
    return bool(store.reports.rows(0.0, 32_503_680_000.0).tickets)


def fill(
    store: Store,
    importer: Importer,
    teams: TeamBook,
    *,
    now: float | None = None,
    seed: int = SEED,
    progress: Progress | None = None,
    tickets: int = TICKETS,
    replies: int = REPLIES,
    days: int = DAYS,
) -> Filled:
    """Fill an empty ``store`` with the month before ``now`` (default: now); ``teams``
    holds the demo's teams, whose clocks the agents work on. ``tickets``, ``replies`` and
    ``days`` make a larger desk's history (``bench/dashboard.py``: 100,000 tickets over
    six months), the hand-written stories among them."""
    when = time.time() if now is None else now

    def clocks(name: str) -> BusinessCalendar:
        return teams.team(name).calendar

    stories = write_stories(clocks, when)
    month = draw_month(
        clocks,
        when,
        seed=seed,
        tickets=tickets - len(stories),
        replies=replies - sum(s.replies for s in stories),
        days=days,
        taken=frozenset(str(s.ticket["id"]) for s in stories),
    )
    parsed = [parse_ticket(t) for t in month.tickets + [s.ticket for s in stories]]
    found = month.lines + [line for s in stories for line in s.lines]
    items = [(number, converted("inkling", line)) for number, line in enumerate(found, 1)]
    total, done = len(parsed) + len(items), 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    for start in range(0, len(parsed), TICKET_BATCH):
        store.tickets.upsert_all(parsed[start : start + TICKET_BATCH])
        advance(len(parsed[start : start + TICKET_BATCH]))
    result = importer.run(items, advance)
    if result.bad:
        first = result.bad[0]
        raise InklingError(f"the import refused demo line {first.line}: {first.error}")
    password = _team(store)
    sends = sum(1 for line in found if line["type"] == "sent")
    return Filled(
        teams=len(TEAMS),
        agents=sum(len(t.agents) for t in TEAMS),
        tickets=len(parsed),
        open_tickets=sum(t.is_open for t in parsed),
        replies=month.replies + sum(s.replies for s in stories),
        events=result.imported - sends,
        lead=LEAD,
        password=password,
        stories=stories,
    )


def _team(store: Store) -> str:
    """The lead (with a new password, returned) and the agents, each of their team."""
    password = new_password()
    store.accounts.add_user(LEAD, "lead", (), Passwords().hash(password))
    store.audit.record("demo", "users.create", LEAD, {"role": "lead", "password": True})
    for team in TEAMS:
        for email in team.agent_emails:
            store.accounts.add_user(email, "agent", (team.name,), None)
            details = {"role": "agent", "teams": [team.name], "password": False}
            store.audit.record("demo", "users.create", email, details)
    return password


def renew_password(store: Store) -> str:
    """A new password for the demo's lead (the one printed before is not kept anywhere)."""
    password = new_password()
    hashed = Passwords().hash(password)
    if not store.accounts.set_password(LEAD, hashed):
        store.accounts.add_user(LEAD, "lead", (), hashed)
    store.accounts.clear_failures(LEAD)
    store.audit.record("demo", "users.password", LEAD)
    return password


def new_password() -> str:
    """16 characters from a 64-letter alphabet: 96 random bits."""
    return secrets.token_urlsafe(12)
