"""Helpdesks' own webhooks: ``POST /api/v1/integrations/{helpdesk}``.

Each request is checked before anything in it is believed: the signature (or shared token)
first (401, nothing recorded), then the JSON, then the mapping onto a ticket upsert (422,
one line saying what was missing or not understood), and only then handed to ``save``.
A helpdesk with no secret configured is refused (404, with the line that says how to
configure it): Inkling never accepts an unsigned payload silently.
"""

# No "from __future__ import annotations": FastAPI reads the route's annotations at run time.
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from inkling.api.intake import read_body
from inkling.errors import SignatureError, TicketError
from inkling.tickets.helpdesk_signatures import missing_credential, verify
from inkling.tickets.helpdesk_tables import HELPDESKS
from inkling.tickets.helpdesks import HelpdeskOptions, ignored_event, map_payload

#: A ticket webhook is a few kilobytes; Zammad's carries the article's body too.
MAX_PAYLOAD_BYTES = 5 * 1024 * 1024

DESCRIPTION = """\
A helpdesk's own webhook payload (Zendesk, Freshdesk, Help Scout, FreeScout, Zammad),
mapped onto the ticket upsert by that helpdesk's tables and saved. The signature is checked
where the helpdesk signs (Zendesk, Help Scout, FreeScout, Zammad); Freshdesk sends the
shared token configured for it. See docs/connect-helpdesks.md.

`200` `{"ticket": {...}}`: the upsert as mapped and saved, or `{"ignored": "..."}` for an
event that is not about a ticket. `401`: bad or missing signature. `404`: no such helpdesk,
or not configured. `422`: not JSON, or no ticket in it (one line says what).
"""

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "The signature or shared token is missing or wrong; nothing recorded"},
    404: {"description": "No such helpdesk, or it is not configured (the line says how)"},
    413: {"description": "The payload is larger than 5 MiB"},
    422: {"description": "Not JSON, or nothing in it maps onto a ticket"},
}


def integrations_router(
    options: Mapping[str, HelpdeskOptions], save: Callable[[dict[str, Any]], object]
) -> APIRouter:
    """The webhook endpoints; ``options`` holds each configured helpdesk's settings, and
    ``save`` records a mapped upsert (it may raise TicketError, answered 422)."""
    router = APIRouter()

    @router.post(
        "/api/v1/integrations/{helpdesk}",
        summary="A helpdesk's webhook: a ticket created or changed",
        description=DESCRIPTION,
        responses=RESPONSES,
        openapi_extra={"x-inkling-auth": "signature"},  # no API key: the helpdesk signs
    )
    async def receive(helpdesk: str, request: Request) -> dict[str, Any]:
        settings = _configured(helpdesk, options)
        body = await read_body(request, MAX_PAYLOAD_BYTES)
        try:
            verify(helpdesk, settings, request.headers, body, query=request.query_params)
        except SignatureError as exc:
            raise HTTPException(401, str(exc)) from exc
        reason = ignored_event(helpdesk, request.headers)
        if reason is not None:
            return {"ignored": reason}
        payload = _payload(helpdesk, body)
        try:
            ticket = map_payload(helpdesk, payload, settings, received_at=time.time())
            await run_in_threadpool(save, ticket)
        except TicketError as exc:
            raise HTTPException(422, str(exc)) from exc
        return {"ticket": ticket}

    return router


def _configured(helpdesk: str, options: Mapping[str, HelpdeskOptions]) -> HelpdeskOptions:
    """The helpdesk's settings; 404 for an unknown helpdesk or one with nothing to check
    its payloads with."""
    if helpdesk not in HELPDESKS:
        raise HTTPException(
            404, f"no integration named {helpdesk[:40]!r}; one of {', '.join(HELPDESKS)}"
        )
    settings = options.get(helpdesk)
    problem = missing_credential(helpdesk, settings)
    if problem is not None or settings is None:
        raise HTTPException(404, problem)
    return settings


def _payload(helpdesk: str, body: bytes) -> Mapping[str, Any]:
    """The body as a JSON object; 422 with one line otherwise."""
    try:
        payload = json.loads(body.decode("utf-8").removeprefix("\ufeff"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, a 5,000-digit number
        raise HTTPException(422, f"{helpdesk} payload is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise HTTPException(422, f"{helpdesk} payload must be a JSON object")
    return payload
