"""Reading a send request: its size, its content type, and what is wrong with it.

Every malformed request is answered with a 4xx naming what is at fault, in FastAPI's own
shapes (422: ``{"detail": [{"loc": ["body", "to"], "msg": ..., "type": ...}]}``; others:
``{"detail": "..."}``), so a client handles the send endpoint's errors like any other's.
"""

from __future__ import annotations

import json
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
        try:
            result = compose(_new_message(body))
        except RequestError as exc:
            raise _invalid(exc.field, exc.message) from exc
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
    data = _json(body)
    if not isinstance(data, dict):
        raise RequestValidationError(
            [{"type": "model_type", "loc": ("body",), "msg": "Input should be an object"}]
        )
    try:
        return NewMessage.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([_at_body(error) for error in errors]) from exc


class _NotJson(ValueError):
    """What Python's ``json`` accepts but JSON (RFC 8259) does not, or what costs too much."""


def _json(body: bytes) -> Any:
    """The request body decoded as JSON by Python's own parser, which, unlike pydantic's,
    keeps a lone surrogate (``"\\ud800"``) as text, so the field holding one can be named.
    Raises RequestValidationError (422 at ``body``) for what is not JSON: not UTF-8 (RFC
    8259 8.1; a byte order mark is ignored), ``NaN`` or ``Infinity``, a number of more
    than 4,300 digits (Python's own limit: reading a longer one costs quadratic time),
    or nesting deeper than Python's recursion limit."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
        return json.loads(text, parse_constant=_constant, parse_int=_integer)
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 (byte {exc.start})"
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except _NotJson as exc:
        problem = str(exc)
    except RecursionError:
        problem = "nested too deeply"
    error = {"type": "json_invalid", "loc": ("body",), "msg": f"Invalid JSON: {problem}"}
    raise RequestValidationError([error])


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _integer(digits: str) -> int:
    if len(digits) > _MAX_DIGITS:
        raise _NotJson(f"a number of {len(digits)} digits")
    return int(digits)


_MAX_DIGITS = 4300


def _at_body(error: Any) -> dict[str, Any]:
    """A pydantic error located in the body, as FastAPI reports its own. A key from the
    request in the location is escaped where it is not printable (a lone surrogate could
    not even be written out as JSON)."""
    message = error["msg"].removeprefix("Value error, ")
    loc = tuple(_printable(part) for part in error["loc"])
    return {"type": error["type"], "loc": ("body", *loc), "msg": message}


def _printable(part: object) -> object:
    if isinstance(part, str) and not part.isprintable():
        return ascii(part)[1:-1]
    return part


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
