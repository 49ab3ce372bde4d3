"""The Queue page: the triage queue (``playbook/queue.py``) as an agent reads it.

One sentence first ("3 tickets need you now, 12 are waiting."), then the lines that need
someone now and those that wait, each with its action, ticket, due time in business words
and the playbook's reason. An agent sees only their teams' tickets, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from inkling.api.access import Principal
from inkling.model import Ticket
from inkling.playbook.queue import QueueItem, build_queue
from inkling.playbook.teams import DEFAULT_TEAM, TeamBook
from inkling.web.sources import Sources
from inkling.web.when import Moment, due_words, moment

#: Lines shown per section at most: past that, a filter says more than a longer list.
MAX_LINES = 200
#: The assignee filter's value for tickets nobody is assigned to.
UNASSIGNED = "-"


class NotYourTeam(Exception):
    """An agent asked for a team that is not theirs (the page answers 403)."""


@dataclass(frozen=True, slots=True)
class Line:
    ticket: Ticket
    action: str  # the playbook's word: "escalate", "fix_address"
    chip: str  # the same for people: "Escalate", "Fix address"
    due: Moment | None
    due_words: str
    due_now: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Section:
    lines: list[Line]
    total: int  # lines before the cap

    @property
    def hidden(self) -> int:
        return self.total - len(self.lines)


@dataclass(frozen=True, slots=True)
class QueuePage:
    answer: str
    now: Section
    waiting: Section
    teams: list[str]
    assignees: list[str]
    team: str | None
    assignee: str | None
    live: bool  # the viewer may watch the live feed (stream:read)


def queue_page(
    sources: Sources, principal: Principal, team: str | None, assignee: str | None
) -> QueuePage:
    """The queue now, for ``team`` and ``assignee`` (None: any; ``UNASSIGNED``: nobody)."""
    book = sources.teams
    if team is not None and not principal.sees(team, book):
        raise NotYourTeam(", ".join(principal.teams) or "(none)")
    at = sources.clock()
    every = [
        item
        for item in build_queue(sources.store, book, at=at)
        if principal.sees(item.ticket.team, book)
    ]
    items = [item for item in every if team is None or _in_team(item, team, book)]
    assignees = sorted({i.ticket.assignee for i in items if i.ticket.assignee})
    if any(i.ticket.assignee is None for i in items):
        assignees.append(UNASSIGNED)
    if assignee is not None:
        wanted = None if assignee == UNASSIGNED else assignee
        items = [i for i in items if i.ticket.assignee == wanted]
    now = [item for item in items if item.due_now]
    waiting = [item for item in items if not item.due_now]
    if principal.team_bound:
        teams = list(principal.teams)
    else:  # the configured teams, and those the tickets name
        teams = [*book.names, *(i.ticket.team for i in every if i.ticket.team)]
    return QueuePage(
        answer=answer(len(now), len(waiting)),
        now=_section(now, sources, at),
        waiting=_section(waiting, sources, at),
        teams=sorted({*teams, *([team] if team else [])}),
        assignees=assignees,
        team=team,
        assignee=assignee,
        live=principal.can("stream:read"),
    )


def answer(now: int, waiting: int) -> str:
    """The page's first sentence: "3 tickets need you now, 12 are waiting."."""
    wait = "none are" if waiting == 0 else f"{waiting} {'is' if waiting == 1 else 'are'}"
    if now == 0:
        if waiting == 0:
            return "Nothing needs you now, and nothing is waiting."
        tickets = "1 ticket is" if waiting == 1 else f"{waiting} tickets are"
        return f"Nothing needs you now; {tickets} waiting."
    need = "1 ticket needs" if now == 1 else f"{now} tickets need"
    return f"{need} you now, {wait} waiting."


def chip(action: str) -> str:
    """An action as a chip says it: "fix_address" is "Fix address"."""
    words = action.replace("_", " ")
    return words[:1].upper() + words[1:]


def _in_team(item: QueueItem, team: str, book: TeamBook) -> bool:
    """As ``build_queue(team=...)`` chooses: ``default`` also holds the tickets with no
    team or one not configured (the queue is built once for the filter's choices too)."""
    named = item.ticket.team
    return named == team or (team == DEFAULT_TEAM and book.team(named).name == DEFAULT_TEAM)


def _section(items: list[QueueItem], sources: Sources, at: float) -> Section:
    """The first ``MAX_LINES`` of ``items`` as lines: only the lines shown are worded."""
    return Section([_line(item, sources, at) for item in items[:MAX_LINES]], len(items))


def _line(item: QueueItem, sources: Sources, at: float) -> Line:
    found = item.recommendation
    team = sources.teams.team(item.ticket.team)
    zone = team.calendar.timezone
    due = moment(found.due, zone, at) if found.due is not None else None
    return Line(
        ticket=item.ticket,
        action=found.action.value,
        chip=chip(found.action.value),
        due=due,
        due_words=due_words(found.action, due, at, team.calendar),
        due_now=item.due_now,
        reason=found.reason,
    )
