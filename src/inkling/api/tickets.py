"""Tickets, the triage queue and finding messages, over HTTP.

PUT  /api/v1/tickets/{id}     create or update a ticket (the contract's upsert shape)
GET  /api/v1/tickets/{id}     the ticket, its messages, its reading, its recommendation
GET  /api/v1/queue            the triage queue (?team=&at=&all=)
GET  /api/v1/messages         messages by ?ticket=&recipient=&since=&until=&state=

Scopes: ``tickets:write``, ``tickets:read``, ``queue:read``, ``messages:read``. An agent
(``api/access.py``) sees only their teams: another team's ticket is a 404 like an unknown
one, the queue holds only their teams' tickets, and messages are listed by ``?ticket=``.
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from inkling.api.access import RESPONSES, Principal, sees_ticket
from inkling.api.problems import UNREADABLE_BODY, unprocessable
from inkling.classify.signatures import UserAgents
from inkling.errors import InklingError, TicketError, UnknownTicket
from inkling.playbook.queue import build_queue
from inkling.playbook.teams import TeamBook
from inkling.playbook.tickets import ticket_view
from inkling.signals.search import MessageQuery, find_messages
from inkling.store import Store
from inkling.tickets.upsert import parse_ticket, ticket_json
from inkling.times import parse_time

TICKET_EXAMPLE = {
    "subject": "Charged twice",
    "priority": "urgent",
    "status": "open",
    "team": "billing",
    "assignee": "sam@help.example",
    "requester": "ana@customer.example",
    "created_at": "2026-12-04T10:00:00+01:00",
    "updated_at": "2026-12-04T10:05:00+01:00",
    "message_ids": ["<CA+x@mail.example>"],
    "source": "zendesk",
}

EXAMPLES = {"ticket": {"value": TICKET_EXAMPLE}}


def tickets_router(
    store: Store,
    teams: TeamBook,
    user_agents: UserAgents,
    require: Callable[[str], Callable[..., Principal]],
) -> APIRouter:
    """The routes above, each behind ``require(SCOPE)`` (``Access.require``)."""
    # each route answers 422 in one line for a value it cannot use (a time, a state)
    router = APIRouter(responses={**RESPONSES, **unprocessable("A value not understood")})

    @router.put(
        "/api/v1/tickets/{ticket}", summary="Create or update a ticket", responses=UNREADABLE_BODY
    )
    async def put_ticket(
        ticket: str,
        body: Annotated[Any, Body(openapi_examples={"ticket": {"value": TICKET_EXAMPLE}})],
        caller: Annotated[Principal, Depends(require("tickets:write"))],
    ) -> dict[str, Any]:
        """An upsert: an update older than the stored ``updated_at`` is ignored
        (``stored: false``); unknown keys are kept in ``extra``. 422 names a bad field."""
        del caller  # whoever holds tickets:write may (agents hold it not)
        try:
            parsed = parse_ticket(body, ticket_id=ticket)
        except TicketError as exc:
            raise HTTPException(422, str(exc)) from exc
        stored = await run_in_threadpool(store.tickets.upsert, parsed)
        return {"stored": stored, "ticket": ticket_json(parsed)}

    @router.get(
        "/api/v1/tickets/{ticket}",
        summary="A ticket and what to do about it",
        responses={404: {"description": "No such ticket (or not your team's)"}},
    )
    async def get_ticket(
        ticket: str,
        caller: Annotated[Principal, Depends(require("tickets:read"))],
        at: Annotated[str | None, Query(description="ISO 8601 or epoch")] = None,
    ) -> dict[str, Any]:
        """The ticket, its messages (each with its recipients' signals), the reading of
        its latest message and its recommendation. Another team's ticket is a 404 to an
        agent, as an unknown one."""
        when = _time(at, "at")
        if not await run_in_threadpool(sees_ticket, caller, store, teams, ticket):
            raise HTTPException(404, f"no ticket {ticket!r}")  # as if there were none
        try:
            return await run_in_threadpool(ticket_view, store, teams, user_agents, ticket, when)
        except UnknownTicket as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.get("/api/v1/queue", summary="The triage queue")
    async def get_queue(
        caller: Annotated[Principal, Depends(require("queue:read"))],
        team: str | None = None,
        at: Annotated[str | None, Query(description="ISO 8601 or epoch; default now")] = None,
        include_all: Annotated[
            bool, Query(alias="all", description="Also tickets with nothing to do")
        ] = False,
    ) -> list[dict[str, Any]]:
        """Due first, then urgent before low, then earliest due (DESIGN.md). An agent's
        queue holds their teams' tickets only (``team`` must be one of theirs)."""
        when = _time(at, "at")
        _check_team(caller, team, teams)
        items = await run_in_threadpool(
            build_queue, store, teams, at=when, team=team, include_all=include_all
        )
        return [item.as_json() for item in items if caller.sees(item.ticket.team, teams)]

    @router.get("/api/v1/messages", summary="Find sent messages")
    async def list_messages(
        caller: Annotated[Principal, Depends(require("messages:read"))],
        ticket: str | None = None,
        recipient: str | None = None,
        since: str | None = None,
        until: str | None = None,
        state: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        cursor: Annotated[str | None, Query(description="`next` of the page before")] = None,
    ) -> dict[str, Any]:
        """Newest first, one entry per message (one Message-ID) with each recipient's
        signals side by side; ``next`` is the cursor of the following page (null at the
        end). An agent lists by ``ticket`` (another team's lists nothing)."""
        if not await run_in_threadpool(_may_list, caller, store, teams, ticket):
            return {"messages": [], "next": None}  # another team's ticket: as one with none
        try:
            query = MessageQuery.of(
                ticket=ticket,
                recipient=recipient,
                since=since,
                until=until,
                state=state,
                limit=limit,
                cursor=cursor,
            )
        except InklingError as exc:
            raise HTTPException(422, str(exc)) from exc
        page = await run_in_threadpool(find_messages, store, query)
        return page.as_json()

    return router


def _check_team(caller: Principal, team: str | None, teams: TeamBook) -> None:
    """403 for an agent asking for another team's queue."""
    if team is not None and not caller.sees(team, teams):
        shown = ", ".join(caller.teams) or "(none)"
        raise HTTPException(403, f"{caller.describe()} sees only the teams {shown}")


def _may_list(caller: Principal, store: Store, teams: TeamBook, ticket: str | None) -> bool:
    """Whether the messages of ``ticket`` are the caller's to list: an agent names a
    ticket (403 without), and another team's lists nothing."""
    if caller.team_bound and ticket is None:
        raise HTTPException(
            403, f"{caller.describe()} lists messages by ?ticket= (one of their teams')"
        )
    return ticket is None or sees_ticket(caller, store, teams, ticket)


def _time(text: str | None, name: str) -> float:
    if text is None:
        return time.time()
    try:
        return parse_time(text, name)
    except InklingError as exc:
        raise HTTPException(422, str(exc)) from exc
