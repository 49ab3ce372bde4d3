"""The tracker: a plain ASGI app for the pixel and the redirect.

This is the hot path. It reads no database: the token says everything. It never breaks
what the customer sees: a bad pixel token still gets the GIF (and records nothing), a bad
click token gets a plain 404 page and never a redirect (no open redirect). Every hit is in
the journal before its response leaves; if the journal cannot take it (its disk is full or
failing), the customer still gets the GIF or the redirect, marked ``x-inkling-recorded:
no``, and the hit is counted and logged as unrecorded (docs/operations.md says why).

A hit is handed over as a plain tuple in the journal's record order (``RECORD`` in
``events/journal.py``): building a dataclass per hit costs more than everything else the
tracker does with it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from itertools import compress
from operator import itemgetter
from typing import Any

from inkling.errors import JournalError, TokenError
from inkling.model import UNCHECKED_OPEN
from inkling.routes import CLICK_PREFIX, HONEYPOT_PREFIX, PIXEL_PREFIX, PIXEL_SUFFIX
from inkling.tokens import HONEYPOT_LINK, OPEN_TOKEN_LENGTH, TokenCodec
from inkling.tracker.client import ClientAddress

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Takes one hit record (the journal's tuple); done once it is durable, raising
#: JournalError if it could not be made so.
RecordFn = Callable[[tuple[Any, ...]], Awaitable[None]]
#: The published network a whole client address is in ("" for none).
LocateFn = Callable[[str], str]

TRANSPARENT_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

#: Request headers kept as evidence for telling people from machines.
EVIDENCE_HEADERS = frozenset(
    {
        b"referer",
        b"purpose",
        b"sec-purpose",
        b"x-purpose",
        b"x-moz",
        b"accept-language",
        b"accept",
        b"via",
        b"from",
        b"sec-fetch-mode",
        b"sec-fetch-site",
        b"sec-fetch-dest",
        # The person's "do not track me" (Global Privacy Control, Do Not Track): kept so
        # the reading can say why a click carries no address or user agent.
        b"sec-gpc",
        b"dnt",
    }
)

#: The request headers written to the journal, as they came (name and value, bytes): the
#: evidence and the user agent. Nothing else is ever written: no cookie, and no
#: X-Forwarded-For, which holds whole addresses (its truncated form is added when it
#: comes from a trusted proxy). The loader decodes them.
KEPT_HEADERS = EVIDENCE_HEADERS | {b"user-agent"}
_FORWARDED = b"x-forwarded-for"
_KEEP = KEPT_HEADERS.__contains__
_NAME = itemgetter(0)
_PIXEL_TOKEN = len(PIXEL_PREFIX)
_PIXEL_END = -len(PIXEL_SUFFIX)
_CLICK_TOKEN = len(CLICK_PREFIX)
_HONEYPOT_TOKEN = len(HONEYPOT_PREFIX)
_UNRECORDED = (b"x-inkling-recorded", b"no")
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]+")
#: Unrecorded hits are logged at most this often (each line gives the count since).
UNRECORDED_LOG_SECONDS = 10.0

_NO_STORE = (b"cache-control", b"no-cache, no-store, must-revalidate, private")
_PIXEL_HEADERS = [
    (b"content-type", b"image/gif"),
    (b"content-length", str(len(TRANSPARENT_GIF)).encode()),
    _NO_STORE,
    (b"pragma", b"no-cache"),
    (b"expires", b"0"),
]
_PIXEL_HEADERS_UNRECORDED = [*_PIXEL_HEADERS, _UNRECORDED]
_BLANK_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"0"),
    _NO_STORE,
    (b"x-robots-tag", b"noindex"),
]
_NOT_FOUND_BODY = b"This link is not valid. Please check the address or contact support.\n"
_NOT_FOUND_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_NOT_FOUND_BODY)).encode()),
    _NO_STORE,
]


class Tracker:
    """ASGI app answering ``/t/o/{token}.gif``, ``/t/c/{token}`` and the honeypot
    ``/t/h/{token}``; other paths go to ``fallback`` (the API and dashboard), or get a
    404. ``locate`` gives the published network of a whole client address, looked up here
    because only the truncated address is ever written down."""

    def __init__(
        self,
        codec: TokenCodec,
        record: RecordFn,
        client: ClientAddress,
        locate: LocateFn,
        fallback: ASGIApp | None = None,
    ) -> None:
        self._codec = codec
        self._record = record
        self._client = client
        self._proxied = client.proxied
        self._stored = client.stored
        self._locate = locate
        self._fallback = fallback
        #: Hits answered but not recorded because the journal could not take them.
        self.unrecorded = 0
        self._unrecorded_logged = 0
        self._unrecorded_log_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method: str = scope["method"]
            if method == "GET" or method == "HEAD":
                path: str = scope["path"]
                if path.startswith(PIXEL_PREFIX) and path.endswith(PIXEL_SUFFIX):
                    # The pixel, inline: every coroutine less is a frame less per hit. Its
                    # token is checked by the loader (UNCHECKED_OPEN): every pixel gets the
                    # same GIF, so checking it here would only slow the answer down.
                    headers = _PIXEL_HEADERS
                    token = path[_PIXEL_TOKEN:_PIXEL_END]
                    if len(token) == OPEN_TOKEN_LENGTH:
                        try:
                            await self._record(self._hit(scope, UNCHECKED_OPEN, token, 0, None))
                        except JournalError as exc:
                            headers = _PIXEL_HEADERS_UNRECORDED
                            self._not_recorded(exc)
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send(
                        {
                            "type": "http.response.body",
                            "body": b"" if method == "HEAD" else TRANSPARENT_GIF,
                        }
                    )
                    return
                if path.startswith(CLICK_PREFIX):
                    await self._click(scope, send, path[_CLICK_TOKEN:])
                    return
                if path.startswith(HONEYPOT_PREFIX):
                    await self._honeypot(scope, send, path[_HONEYPOT_TOKEN:])
                    return
        if self._fallback is not None:
            await self._fallback(scope, receive, send)
        elif scope["type"] == "http":
            await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)

    async def _click(self, scope: Scope, send: Send, token: str) -> None:
        try:
            target = self._codec.decode_click(token)
        except TokenError:
            # A mail client may take the punctuation after a link in plain text (")", "。")
            # for part of it: the token is the leading run of base64url characters.
            trimmed = _TOKEN_RUN.match(token)
            try:
                if trimmed is None or trimmed.end() == len(token):
                    raise
                target = self._codec.decode_click(trimmed.group(0))
            except TokenError:
                await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)
                return
        recorded = await self._recorded(
            _respecting(
                scope, self._hit(scope, "click", target.message, target.sent_at, target.link)
            )
        )
        location = _location(target.url)
        if location is None:  # a token made before targets were checked: nowhere safe to go
            await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)
            return
        headers = [
            (b"location", location),
            (b"content-length", b"0"),
            _NO_STORE,
            (b"referrer-policy", b"no-referrer"),
        ]
        if not recorded:
            headers.append(_UNRECORDED)
        await _respond(send, scope, 302, headers, b"")

    async def _honeypot(self, scope: Scope, send: Send, token: str) -> None:
        """The hidden link no person can reach: recorded as a click on link 65535, answered
        with a blank page (there is nowhere to send a scanner)."""
        try:
            target = self._codec.decode_open(token)
        except TokenError:
            await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)
            return
        recorded = await self._recorded(
            _respecting(
                scope, self._hit(scope, "click", target.message, target.sent_at, HONEYPOT_LINK)
            )
        )
        headers = _BLANK_HEADERS if recorded else [*_BLANK_HEADERS, _UNRECORDED]
        await _respond(send, scope, 200, headers, b"")

    async def _recorded(self, record: tuple[Any, ...]) -> bool:
        try:
            await self._record(record)
        except JournalError as exc:
            self._not_recorded(exc)
            return False
        return True

    def _not_recorded(self, exc: JournalError) -> None:
        """Count a hit answered but not recorded; log it, at most every few seconds."""
        self.unrecorded += 1
        now = time.monotonic()
        if now >= self._unrecorded_log_at:
            missed = self.unrecorded - self._unrecorded_logged
            log.error("%d hit(s) answered but not recorded: %s", missed, exc)
            self._unrecorded_logged = self.unrecorded
            self._unrecorded_log_at = now + UNRECORDED_LOG_SECONDS

    def _hit(
        self, scope: Scope, kind: str, message: str, sent_at: int, link: int | None
    ) -> tuple[Any, ...]:
        """The journal record of a hit (``RECORD`` order): kind, message, ts, sent_at,
        link, method, ip, network, headers. The headers stay as the bytes pairs they came
        as (decoding them, and cutting long values, is the loader's work)."""
        raw = scope["headers"]
        # the kept pairs as they came, picked in C (no bytecode per header): a third of
        # what a comprehension costs on a browser's dozen headers
        headers = list(compress(raw, map(_KEEP, map(_NAME, raw))))
        client = scope.get("client")
        peer = client[0] if client else None
        if self._proxied:
            # every X-Forwarded-For line, in order, as one list (RFC 9110 5.3): a proxy
            # that adds a line of its own must not leave the client's first line to be read
            forwarded = ", ".join(v.decode("latin-1") for n, v in raw if n == _FORWARDED) or None
            ip = self._client.address(peer, forwarded)
            if forwarded is not None and self._client.trusts(peer):
                headers.append((_FORWARDED, self._client.for_storage(forwarded).encode()))
                peer = self._client.client(peer, forwarded)
        else:
            ip = self._stored(peer) if peer else None
        return (
            kind,
            message,
            time.time(),
            sent_at,
            link,
            scope["method"],
            ip,
            self._locate(peer) if peer else None,
            headers,
        )


_DECLINED = ((b"sec-gpc", b"1"), (b"dnt", b"1"))


def _respecting(scope: Scope, record: tuple[Any, ...]) -> tuple[Any, ...]:
    """A click whose browser says "do not track me" (``Sec-GPC: 1`` or ``DNT: 1``): still
    redirected and recorded (the agent learns the link was used), but without the address
    or the user agent; only the published network the address was in (a provider's or a
    scanner's, never a household's) and the header itself are kept."""
    declined = [pair for pair in scope["headers"] if (pair[0], pair[1].strip()) in _DECLINED]
    if not declined:
        return record
    kind, message, ts, sent_at, link, method, _ip, network, _headers = record
    return (kind, message, ts, sent_at, link, method, None, network, declined)


def _location(url: str) -> bytes | None:
    """``url`` as a Location header, if it is an absolute http(s) URL that can be one."""
    if not url.isascii() or not url.isprintable() or " " in url:
        return None
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in ("http", "https") or not rest:
        return None
    if rest[0] in "/\\?#":
        return None
    return url.encode("ascii")


async def _respond(
    send: Send, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
