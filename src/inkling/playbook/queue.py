"""The triage queue: every open ticket's recommendation, in the contract's order.

First those due (``due`` at or before the queue's time), then the rest; within each,
urgent before low, then earliest due. The queue as it stood at a past time leaves out the
tickets created, messages sent and events recorded after it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inkling.model import PRIORITY_RANK, Ticket
from inkling.playbook.rules import Action, Recommendation, recommend
from inkling.playbook.teams import DEFAULT_TEAM, TeamBook
from inkling.signals.state import signs_of
from inkling.store import Store, Thread
from inkling.times import iso


@dataclass(slots=True)
class QueueItem:
    ticket: Ticket
    recommendation: Recommendation
    message: str | None  # the Message-ID of the ticket's latest outbound message
    due_now: bool

    def as_json(self) -> dict[str, Any]:
        r = self.recommendation
        return {
            "ticket": self.ticket.id,
            "priority": self.ticket.priority.value,
            "team": self.ticket.team,
            "assignee": self.ticket.assignee,
            "action": r.action.value,
            "due": iso(r.due) if r.due is not None else None,
            "due_now": self.due_now,
            "state": r.state.value if r.state is not None else None,
            "message": self.message,
            "reason": r.reason,
        }


def recommendation_for(
    ticket: Ticket, thread: Thread | None, teams: TeamBook, at: float
) -> Recommendation:
    """One ticket's recommendation from its latest thread (None: nothing sent yet)."""
    signs = signs_of(thread) if thread is not None else None
    return recommend(ticket, teams.team(ticket.team), signs, at)


def build_queue(
    store: Store,
    teams: TeamBook,
    *,
    at: float | None = None,
    team: str | None = None,
    include_all: bool = False,
) -> list[QueueItem]:
    """The queue at ``at`` (default now), for one team or all; ``include_all`` keeps the
    tickets whose action is ``none``."""
    when = time.time() if at is None else at
    items = []
    for ticket, thread in store.tickets.open_threads(when):
        if not _in_team(ticket, team, teams):
            continue
        found = recommendation_for(ticket, thread, teams, when)
        if found.action is Action.NONE and not include_all:
            continue
        due_now = found.due is not None and found.due <= when
        message = thread.message_id if thread is not None else None
        items.append(QueueItem(ticket, found, message, due_now))
    return ordered(items)


def _in_team(ticket: Ticket, team: str | None, teams: TeamBook) -> bool:
    """Whether the ticket is in ``team`` (any, for None); ``default`` also holds tickets
    with no team or one not configured, as the clock they run on does."""
    if team is None or ticket.team == team:
        return True
    return team == DEFAULT_TEAM and teams.team(ticket.team).name == DEFAULT_TEAM


def ordered(items: Sequence[QueueItem]) -> list[QueueItem]:
    """Due first, then urgent before low, then earliest due (none last), then ticket id."""

    def key(item: QueueItem) -> tuple[bool, int, float, str]:
        due = item.recommendation.due
        return (
            not item.due_now,
            PRIORITY_RANK[item.ticket.priority],
            due if due is not None else float("inf"),
            item.ticket.id,
        )

    return sorted(items, key=key)
