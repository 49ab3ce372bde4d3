"""The API app (FastAPI). The tracker's hot path does not go through it: the tracker answers
``/t/...`` itself and hands everything else here.

    GET  /api/v1/messages/{message}    the reading of a message (Message-ID or Inkling id)
    POST /api/v1/messages              instrument a message; send it, or hand it back
    GET  /api/openapi.json             the OpenAPI description
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time,
# including those of the dependencies defined inside build_api.
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline

from inkling.api.access import RESPONSES, Access, Principal, sees_ticket
from inkling.api.compose import NewMessage
from inkling.api.intake import JSON, MIME, outgoing, read_body
from inkling.api.privacy import privacy_router
from inkling.api.reports import reports_router
from inkling.api.sending import Prepared, SendFailed, Sending, Sent
from inkling.api.tickets import tickets_router
from inkling.classify.signatures import UserAgents
from inkling.errors import (
    AmbiguousMessage,
    DuplicateMessage,
    StoreError,
    StoreUnavailable,
    UnknownMessage,
)
from inkling.playbook.teams import TeamBook
from inkling.relay import NO_UPSTREAM, Copy, Outbound
from inkling.signals.reading import read_message
from inkling.signals.search import read_thread
from inkling.store import Store

log = logging.getLogger(__name__)

_BINARY = {"schema": {"type": "string", "format": "binary"}}

SEND_DESCRIPTION = """\
Instrument a message (tracked links, open pixel) and register it, one copy per recipient
as the SMTP relay makes them (same workflows, policies, DKIM re-signing, return paths).

**The message**, either:

- `Content-Type: application/json`: the fields below; `to` and `from` and at least one of
  `html` and `text` are required (both: `multipart/alternative`).
- `Content-Type: message/rfc822`: a whole message. Its envelope is read from its headers:
  From, and To, Cc and Bcc (Bcc is removed). `X-Inkling-Workflow` and `X-Inkling-Ticket`
  name the workflow and the ticket, as with the relay.

**`send=false`** (the default): nothing is sent; the copies are registered (readings find
them) and handed back, for you to send. One copy: `201`, the copy as `message/rfc822`, its
Inkling id in `X-Inkling-Id` and its reading in `Location`. Several copies (or
`Accept: application/json`): `201`, `{"copies": [{"id", "recipient", "message_id",
"untracked", "mime"}]}` with `mime` in base64. `409` if that Message-ID is already
registered for that recipient.

**`send=true`**: each copy goes to the configured mail server (`INKLING_RELAY_UPSTREAM`);
`201`, `{"copies": [{"id", "recipient", "message_id", "untracked", "status": "sent" |
"refused", "reply"}]}`, one entry per copy in the order of the recipients. A refused copy
is not kept (its `id` is null). `502` if the mail server refused every copy, `503` if it
cannot be reached, is not configured, or Inkling cannot record the copies: nothing was
sent then. Sending the same Message-ID to the same recipient again does not send it twice.

Bad input is a `4xx` naming the field: `422` (missing or malformed field, not MIME), `413`
(over `max_message_bytes`), `415` (another content type).
"""

SEND_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "The copies (send=false: the copy itself when there is one)",
        "model": Prepared | Sent,
        "content": {MIME: _BINARY},
    },
    **RESPONSES,
    409: {"description": "send=false: this Message-ID is already registered for a recipient"},
    413: {"description": "The message is over max_message_bytes"},
    415: {"description": "Neither application/json nor message/rfc822"},
    502: {"description": "send=true: the mail server refused every copy", "model": SendFailed},
    503: {
        "description": "send=true: no mail server configured, or it cannot be reached, or "
        "Inkling cannot record the copies; nothing was sent",
        "model": SendFailed,
    },
}

SEND_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": NewMessage.model_json_schema(by_alias=True)}, MIME: _BINARY},
    }
}


@dataclass(frozen=True, slots=True)
class ApiOptions:
    max_message_bytes: int = 25 * 1024 * 1024
    retention_days: int = 180  # what POST /api/v1/purge purges by default
    help_center: tuple[str, ...] = ()  # help articles' URL prefixes, for the reports


def build_api(
    *,
    store: Store,
    access: Access,
    outbound: Outbound,
    options: ApiOptions,
    stream: Callable[[Callable[..., Any]], APIRouter] = lambda auth: APIRouter(),
    events: Callable[[Callable[..., Any]], APIRouter] = lambda auth: APIRouter(),
    teams: TeamBook | None = None,
    integrations: APIRouter | None = None,
) -> FastAPI:
    """The API over ``store``, sending through ``outbound`` (shared with the relay).
    ``stream`` and ``events`` make their routers (``api/stream.py``, ``api/providers.py``)
    around the dependency they are given; every route's dependency is
    ``access.require(SCOPE)`` (``api/access.py``), which also answers 401 and 403."""
    api = FastAPIOffline(
        title="Inkling",
        summary="Honest email tracking for customer-support teams",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        static_url="/api/docs/static",  # served from the installed package: no CDN
    )
    _translate_store_errors(api)
    user_agents = UserAgents.load()
    sending = Sending(outbound)
    limit = options.max_message_bytes

    require = access.require
    book = teams or TeamBook()

    @api.get(
        "/api/v1/messages/{message:path}",
        summary="The reading of a message",
        responses={**RESPONSES, 404: {"description": "No such message (or not your team's)"}},
    )
    def reading(
        message: str,
        caller: Annotated[Principal, Depends(require("messages:read"))],
        limit: Annotated[
            int | None, Query(ge=0, description="List at most this many events")
        ] = None,
    ) -> dict[str, Any]:
        """Opens and clicks split by verdict, the honest sentence, and the events with
        their verdicts, agents, reasons and history. ``message`` is the Message-ID header
        value or Inkling's id. An agent reads only their teams' messages."""
        try:
            found = read_message(store, message, limit=limit, user_agents=user_agents).as_json()
        except UnknownMessage as exc:
            raise HTTPException(404, str(exc)) from exc
        except AmbiguousMessage:  # one copy per recipient: the thread, side by side
            found = read_thread(store, message).as_json()
        if not sees_ticket(caller, store, book, found.get("ticket")):
            raise HTTPException(404, f"no message {message!r}")  # as if there were none
        return found

    @api.post(
        "/api/v1/messages",
        status_code=201,
        summary="Instrument a message; send it, or hand it back to send yourself",
        description=SEND_DESCRIPTION,
        responses=SEND_RESPONSES,
        openapi_extra=SEND_BODY,
    )
    async def send_message(
        request: Request,
        caller: Annotated[Principal, Depends(require("messages:send"))],
        send: Annotated[
            bool, Query(description="Send through the configured mail server (else hand back)")
        ] = False,
    ) -> Response:
        del caller  # whoever holds messages:send may send
        if send and not sending.can_send:
            raise HTTPException(503, f"{NO_UPSTREAM}; or send=false and send the copies yourself")
        body = await read_body(request, limit)
        content_type = request.headers.get("content-type")
        message = await run_in_threadpool(
            outgoing, content_type, body, for_sending=send, limit=limit
        )
        if send:
            status, answer = await sending.send(message)
            return JSONResponse(answer.model_dump(), status_code=status)
        try:
            copies = await run_in_threadpool(sending.prepare, message)
        except DuplicateMessage as exc:  # already registered: a second copy would be ambiguous
            raise HTTPException(409, str(exc)) from exc
        return _prepared(copies, request.headers.get("accept", ""))

    api.include_router(stream(require("stream:read")))
    # events import and providers' webhooks (api/providers.py)
    api.include_router(events(require("events:write")))
    api.include_router(tickets_router(store, book, user_agents, require))
    api.include_router(
        privacy_router(store, access.actor("privacy:admin"), retention_days=options.retention_days)
    )
    api.include_router(reports_router(store, book, options.help_center, require))
    api.include_router(integrations or APIRouter())  # helpdesks' webhooks: api/integrations.py
    return api


def _translate_store_errors(api: FastAPI) -> None:
    """A database that is away is a 503 the caller may retry; any other refusal of the
    database is a 500 (logged): neither is the caller's fault."""

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"detail": f"the database is unavailable; try again later ({exc})"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    async def refused(request: Request, exc: Exception) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": "the database refused the operation"}, status_code=500)

    api.add_exception_handler(StoreUnavailable, unavailable)
    api.add_exception_handler(StoreError, refused)


def _prepared(copies: list[Copy], accept: str) -> Response:
    """One copy as itself (a client can pipe it to its mailer), unless JSON is asked for;
    several copies as JSON."""
    if len(copies) == 1 and not _wants_json(accept):
        ident = copies[0].record.id
        headers = {"X-Inkling-Id": ident, "Location": f"/api/v1/messages/{ident}"}
        return Response(copies[0].data, status_code=201, media_type=MIME, headers=headers)
    return JSONResponse(Prepared.of(copies).model_dump(), status_code=201)


def _wants_json(accept: str) -> bool:
    media = {part.partition(";")[0].strip().lower() for part in accept.split(",")}
    return JSON in media and MIME not in media
