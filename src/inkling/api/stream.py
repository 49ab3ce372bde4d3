"""``GET /api/v1/stream``: new signals and due recommendations as Server-Sent Events.

Each event is one stored signal (a person's open or click, or a mail that came back) as the
webhooks announce it (``{"type", "timestamp", "data"}``, no IP address), with an ``id:`` a
client sends back as ``Last-Event-ID`` to resume (see :mod:`inkling.webhooks.feed` for why
it polls the store by time). A comment line goes out every ``heartbeat`` seconds, so
proxies keep an idle stream open and a client notices a dead one. A recommendation that
falls due (``recommendation.due``, the queue's JSON for the ticket) goes out as it is
announced, with no ``id:`` (so it does not move the signals' resume point): a client that
reconnects gets those that fall due from then on, and the queue for the rest.
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse, ServerSentEvent

from inkling.errors import StoreError
from inkling.store.webhooks import TYPE_OF_KIND, Webhooks
from inkling.webhooks import FeedCursor, event_payload
from inkling.webhooks.due import DueFeed

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 1.0
DEFAULT_HEARTBEAT_SECONDS = 15.0
#: Signals a poll reads at most; a burst larger than this goes out over several polls.
POLL_LIMIT = 500


def stream_router(
    webhooks: Webhooks,
    auth: Callable[..., Any],
    *,
    poll: float = DEFAULT_POLL_SECONDS,
    heartbeat: float = DEFAULT_HEARTBEAT_SECONDS,
    due: DueFeed | None = None,
) -> APIRouter:
    """The live feed's route, behind the API's ``auth`` dependency (``stream:read``)."""
    router = APIRouter()

    @router.get(
        "/api/v1/stream",
        summary="New signals as Server-Sent Events",
        response_class=EventSourceResponse,
        responses={
            200: {"content": {"text/event-stream": {}}},
            401: {"description": "No valid key or session"},
            403: {"description": "Lacks the scope stream:read"},
        },
    )
    async def stream(
        caller: Annotated[Any, Depends(auth)],
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> EventSourceResponse:
        """Each new signal as one event (``data:`` the webhook payload, ``id:`` for
        ``Last-Event-ID``); a comment every 15 seconds while nothing happens."""
        del caller  # whoever holds stream:read may watch
        cursor = FeedCursor.resume(last_event_id, time.time())
        return EventSourceResponse(_events(webhooks, cursor, poll, due), ping=heartbeat)

    return router


async def _events(
    webhooks: Webhooks, cursor: FeedCursor, poll: float, due: DueFeed | None
) -> AsyncIterator[ServerSentEvent]:
    due_seen = due.last if due is not None else 0
    if due is not None:
        due.listeners += 1
    try:
        async for event in _polled(webhooks, cursor, poll, due, due_seen):
            yield event
    finally:
        if due is not None:
            due.listeners -= 1


async def _polled(
    webhooks: Webhooks, cursor: FeedCursor, poll: float, due: DueFeed | None, due_seen: int
) -> AsyncIterator[ServerSentEvent]:
    while True:
        if due is not None:
            for number, envelope in due.since(due_seen):
                due_seen = number
                yield ServerSentEvent(data=json.dumps(envelope, ensure_ascii=False))
        try:
            found = await run_in_threadpool(webhooks.signals_since, cursor.since, POLL_LIMIT)
        except StoreError as exc:  # the database is away: the stream waits for it
            log.warning("live feed: %s", exc)
            found = []
        for event, ident in cursor.take(found):
            payload = event_payload(TYPE_OF_KIND.get(event.kind, event.kind), event)
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            yield ServerSentEvent(data=data, id=ident)
        await asyncio.sleep(poll)
