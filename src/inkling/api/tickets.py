"""Tickets, the triage queue and finding messages, over HTTP.

PUT  /api/v1/tickets/{id}     create or update a ticket (the contract's upsert shape)
GET  /api/v1/tickets/{id}     the ticket, its messages, its reading, its recommendation
GET  /api/v1/queue            the triage queue (?team=&at=&all=)
GET  /api/v1/messages         messages by ?ticket=&recipient=&since=&until=&state=
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

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
    store: Store, teams: TeamBook, user_agents: UserAgents, auth: Callable[..., str]
) -> APIRouter:
    """The routes above, each behind the API's key check ``auth``."""
    router = APIRouter(dependencies=[Depends(auth)])

    @router.put("/api/v1/tickets/{ticket}", summary="Create or update a ticket")
    async def put_ticket(
        ticket: str,
        body: Annotated[Any, Body(openapi_examples={"ticket": {"value": TICKET_EXAMPLE}})],
    ) -> dict[str, Any]:
        """An upsert: an update older than the stored ``updated_at`` is ignored
        (``stored: false``); unknown keys are kept in ``extra``. 422 names a bad field."""
        try:
            parsed = parse_ticket(body, ticket_id=ticket)
        except TicketError as exc:
            raise HTTPException(422, str(exc)) from exc
        stored = await run_in_threadpool(store.tickets.upsert, parsed)
        return {"stored": stored, "ticket": ticket_json(parsed)}

    @router.get("/api/v1/tickets/{ticket}", summary="A ticket and what to do about it")
    async def get_ticket(
        ticket: str, at: Annotated[str | None, Query(description="ISO 8601 or epoch")] = None
    ) -> dict[str, Any]:
        """The ticket, its messages (each with its recipients' signals), the reading of
        its latest message and its recommendation."""
        when = _time(at, "at")
        try:
            return await run_in_threadpool(ticket_view, store, teams, user_agents, ticket, when)
        except UnknownTicket as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.get("/api/v1/queue", summary="The triage queue")
    async def get_queue(
        team: str | None = None,
        at: Annotated[str | None, Query(description="ISO 8601 or epoch; default now")] = None,
        include_all: Annotated[
            bool, Query(alias="all", description="Also tickets with nothing to do")
        ] = False,
    ) -> list[dict[str, Any]]:
        """Due first, then urgent before low, then earliest due (DESIGN.md)."""
        when = _time(at, "at")
        items = await run_in_threadpool(
            build_queue, store, teams, at=when, team=team, include_all=include_all
        )
        return [item.as_json() for item in items]

    @router.get("/api/v1/messages", summary="Find sent messages")
    async def list_messages(
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
        end)."""
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


def _time(text: str | None, name: str) -> float:
    if text is None:
        return time.time()
    try:
        return parse_time(text, name)
    except InklingError as exc:
        raise HTTPException(422, str(exc)) from exc
