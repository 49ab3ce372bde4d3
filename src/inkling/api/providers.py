"""Events from elsewhere over HTTP: the import endpoint and the providers' webhooks.

POST /api/v1/events                  lines of the `inkling` format (scope events:write)
POST /api/v1/providers/{provider}    a provider's webhook (its own signature, no key)
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from inkling.api.intake import read_body
from inkling.errors import ConfigError, IntakeError, SignatureError
from inkling.providers import FORMATS, Importer, ImportResult, Received, Receivers
from inkling.providers import read_body as read_lines

log = logging.getLogger(__name__)

#: A webhook body or an import this large is refused (413) before it is read whole.
MAX_BODY = 32 * 1024 * 1024

IMPORT_DESCRIPTION = """\
Sends, hits and mail events recorded elsewhere, as lines of the `inkling` import format
(DESIGN.md, "Events import"): JSON lines, or one JSON array of such objects. `format`
names a provider's payload shape instead. Opens and clicks are judged exactly as live hits;
importing the same lines again records nothing new.

`200` `{"imported", "duplicates", "ignored", "bad": []}` when every line was good; `422`
with the same body when some were not (each `{"line", "error"}`): the good lines are
imported all the same.
"""

RECEIVER_DESCRIPTION = """\
Point the provider's event webhook here (docs/connect-esps.md). The payload is checked
for the provider's signature first: SendGrid's signed Event Webhook (ECDSA), Mailgun's
HMAC, Postmark's basic authentication, Amazon SNS's certificate signature (SES). `401`
if it does not verify: nothing is recorded. `403` if the provider is not set up in
`inkling.toml`. `200` with what was recorded otherwise, bad events listed (a provider
would only send them again).
"""

Provider = Literal["sendgrid", "mailgun", "postmark", "ses"]
Format = Literal["inkling", "sendgrid", "mailgun", "postmark", "ses"]
assert set(Format.__args__) == set(FORMATS)  # type: ignore[attr-defined]


def events_router(
    *, importer: Importer, receivers: Receivers, user: Callable[..., Any]
) -> APIRouter:
    """The routes, with ``user`` the API's dependency for the import (``events:write``);
    the receivers check the provider's signature instead (``x-inkling-auth`` says so in
    the OpenAPI spec)."""
    router = APIRouter()

    @router.post(
        "/api/v1/events",
        summary="Import sends, hits and mail events recorded elsewhere",
        description=IMPORT_DESCRIPTION,
        responses={
            401: {"description": "No valid API key"},
            403: {"description": "Lacks the scope events:write"},
            413: {"description": "The body is larger than 32 MiB"},
            422: {"description": "Bad lines"},
        },
    )
    async def import_events(
        request: Request,
        caller: Annotated[Any, Depends(user)],
        format: Annotated[Format, Query(description="The lines' shape")] = "inkling",
    ) -> JSONResponse:
        del caller  # whoever holds events:write may import
        body = await read_body(request, MAX_BODY)
        result: ImportResult = await run_in_threadpool(
            lambda: importer.run(list(read_lines(body, format)))
        )
        return JSONResponse(result.as_json(), status_code=422 if result.bad else 200)

    @router.post(
        "/api/v1/providers/{provider}",
        summary="A provider's event webhook",
        description=RECEIVER_DESCRIPTION,
        responses={
            400: {"description": "The payload is not what the provider sends"},
            401: {"description": "The signature does not verify"},
            403: {"description": "The provider is not set up"},
            413: {"description": "The payload is larger than 32 MiB"},
        },
        openapi_extra={"x-inkling-auth": "signature"},
    )
    async def receive(provider: Provider, request: Request) -> JSONResponse:
        body = await read_body(request, MAX_BODY)
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            received: Received = await run_in_threadpool(receivers.receive, provider, headers, body)
        except SignatureError as exc:
            log.warning("%s webhook refused: %s", provider, exc)
            raise HTTPException(401, str(exc)) from exc
        except ConfigError as exc:
            raise HTTPException(403, str(exc)) from exc
        except IntakeError as exc:
            raise HTTPException(400, str(exc)) from exc
        if received.result is not None and received.result.bad:
            log.warning(
                "%s webhook: %d event(s) not recorded, first: %s",
                provider,
                len(received.result.bad),
                received.result.bad[0].error,
            )
        return JSONResponse(received.as_json())

    return router
