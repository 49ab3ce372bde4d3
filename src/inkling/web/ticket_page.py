"""The Ticket page: what to do about a ticket first, then its story.

The recommendation and the reading are the API's (``playbook/tickets.py``'s
``ticket_view``, as ``GET /api/v1/tickets/{id}`` answers them), so the page and the API
never disagree; the timeline below is every message and signal (``web/timeline.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inkling.model import Ticket
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.rules import Action
from inkling.playbook.tickets import ticket_view
from inkling.times import parse_time
from inkling.web.queue_page import chip
from inkling.web.sources import Sources
from inkling.web.timeline import Line, timeline
from inkling.web.when import UNTIL, Moment, due_words, moment

UNTIL_WORDS = frozenset(action.value for action in UNTIL)


@dataclass(frozen=True, slots=True)
class Advice:
    action: str
    chip: str
    due: Moment | None
    due_words: str
    due_now: bool
    reason: str


@dataclass(frozen=True, slots=True)
class TicketPage:
    ticket: Ticket
    advice: Advice
    reading: str | None  # the honest sentence of the latest message, None before any
    zone: str
    lines: list[Line]
    created: Moment


def ticket_page(sources: Sources, ident: str) -> TicketPage:
    """The page of ticket ``ident`` now; UnknownTicket if there is none."""
    at = sources.clock()
    store = sources.store
    view = ticket_view(store, sources.teams, sources.user_agents, ident, at)
    ticket = store.tickets.get(ident)
    team = sources.teams.team(ticket.team)
    zone = team.calendar.timezone
    advice = _advice(view["recommendation"], zone, at, team.calendar)
    copies = [c for c in store.tickets.messages_of(ident) if c.sent_at <= at]
    reading = view["reading"]
    lines = timeline(store, copies, sources.user_agents, at=at, zone=zone)
    return TicketPage(
        ticket=ticket,
        advice=advice,
        reading=reading["sentence"] if reading else None,
        zone=zone,
        lines=_with_due(lines, advice),
        created=moment(ticket.created_at, zone, at),
    )


def _with_due(lines: list[Line], advice: Advice) -> list[Line]:
    """The timeline with the moment the action falls due in its place ("⚑ Escalate due")."""
    if advice.due is None:
        return lines
    said = "The wait ends" if advice.action in UNTIL_WORDS else f"{advice.chip} falls due"
    text = f"{said} (see “What to do” above)."
    due = Line(advice.due, "due", text, "Due")
    later = [i for i, line in enumerate(lines) if line.when.ts > advice.due.ts]
    at = later[0] if later else len(lines)
    return [*lines[:at], due, *lines[at:]]


def _advice(found: dict[str, Any], zone: str, at: float, calendar: BusinessCalendar) -> Advice:
    action = Action(found["action"])
    due = moment(parse_time(found["due"], "due"), zone, at) if found["due"] else None
    return Advice(
        action=action.value,
        chip=chip(action.value),
        due=due,
        due_words=due_words(action, due, at, calendar),
        due_now=bool(found["due_now"]),
        reason=str(found["reason"]),
    )
