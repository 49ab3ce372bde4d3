"""Reading a send request: its size, its content type, and what is wrong with it.

Every malformed request is answered with a 4xx naming what is at fault, in FastAPI's own
shapes (422: ``{"detail": [{"loc": ["body", "to"], "msg": ..., "type": ...}]}``; others:
``{"detail": "..."}``), so a client handles the send endpoint's errors like any other's.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from inkling.api.compose import NewMessage, Outgoing, compose, from_mime
from inkling.errors import RequestError

MIME = "message/rfc822"
JSON = "application/json"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; 413 as soon as it is known to be over ``limit`` bytes (before
    it is all read when the client declares its length)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def outgoing(content_type: str | None, body: bytes, *, for_sending: bool, limit: int) -> Outgoing:
    """The message and envelope a request body gives (blocking for a large message: call
    it in a worker thread). Raises HTTPException or RequestValidationError (422)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == MIME:
        try:
            result = from_mime(body, for_sending=for_sending)
        except RequestError as exc:
            raise _invalid(exc.field, exc.message) from exc
    elif media == JSON or media.endswith("+json"):
        result = compose(_new_message(body))
    else:
        raise HTTPException(
            415,
            f"Content-Type must be {JSON} (the message as fields) or {MIME} (a whole "
            f"message), not {media or 'missing'}",
        )
    if len(result.raw) > limit:
        raise _too_large(limit, len(result.raw))
    return result


def _new_message(body: bytes) -> NewMessage:
    try:
        return NewMessage.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([_at_body(error) for error in errors]) from exc


def _at_body(error: Any) -> dict[str, Any]:
    """A pydantic error located in the body, as FastAPI reports its own."""
    message = error["msg"].removeprefix("Value error, ")
    return {"type": error["type"], "loc": ("body", *error["loc"]), "msg": message}


def _invalid(field: str, message: str) -> RequestValidationError:
    """A 422 for a field of the message (``From``, ``To``) or the whole ``body``."""
    loc = ("body",) if field == "body" else ("body", field)
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message}])


def _too_large(limit: int, size: int | None = None) -> HTTPException:
    """413; ``size`` is None when the body was cut off as soon as it passed the limit."""
    known = f"{size} bytes, " if size is not None else ""
    return HTTPException(
        413, f"the message is {known}over the limit of {limit} bytes (INKLING_MAX_MESSAGE_BYTES)"
    )
