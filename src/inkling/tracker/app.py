"""The tracker: a plain ASGI app for the pixel and the redirect.

This is the hot path. It reads no database: the token says everything. It never breaks
what the customer sees: a bad pixel token still gets the GIF (and records nothing), a bad
click token gets a plain 404 page and never a redirect (no open redirect). Every recorded
hit is durable before its response leaves.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from inkling.errors import TokenError
from inkling.events.model import Event, EventKind
from inkling.tokens import TokenCodec
from inkling.tracker.client import ClientAddress

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RecordFn = Callable[[Event], Awaitable[None]]

PIXEL_PREFIX = "/t/o/"
CLICK_PREFIX = "/t/c/"

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
    }
)
MAX_HEADER_VALUE = 512

_NO_STORE = (b"cache-control", b"no-cache, no-store, must-revalidate, private")
_PIXEL_HEADERS = [
    (b"content-type", b"image/gif"),
    (b"content-length", str(len(TRANSPARENT_GIF)).encode()),
    _NO_STORE,
    (b"pragma", b"no-cache"),
    (b"expires", b"0"),
]
_NOT_FOUND_BODY = b"This link is not valid. Please check the address or contact support.\n"
_NOT_FOUND_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_NOT_FOUND_BODY)).encode()),
    _NO_STORE,
]


class Tracker:
    """ASGI app answering ``/t/o/{token}.gif`` and ``/t/c/{token}``; other paths go to
    ``fallback`` (the API and dashboard), or get a 404."""

    def __init__(
        self,
        codec: TokenCodec,
        record: RecordFn,
        client: ClientAddress,
        fallback: ASGIApp | None = None,
    ) -> None:
        self._codec = codec
        self._record = record
        self._client = client
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            if path.startswith(PIXEL_PREFIX) and path.endswith(".gif"):
                await self._pixel(scope, send, path[len(PIXEL_PREFIX) : -4])
                return
            if path.startswith(CLICK_PREFIX):
                await self._click(scope, send, path[len(CLICK_PREFIX) :])
                return
        if self._fallback is not None:
            await self._fallback(scope, receive, send)
        elif scope["type"] == "http":
            await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)

    async def _pixel(self, scope: Scope, send: Send, token: str) -> None:
        try:
            target = self._codec.open_open(token)
        except TokenError:
            pass
        else:
            event = self._event(scope, EventKind.OPEN, target.message, target.sent_at, None)
            await self._record(event)
        await _respond(send, scope, 200, _PIXEL_HEADERS, TRANSPARENT_GIF)

    async def _click(self, scope: Scope, send: Send, token: str) -> None:
        try:
            target = self._codec.open_click(token)
        except TokenError:
            await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)
            return
        event = self._event(scope, EventKind.CLICK, target.message, target.sent_at, target.link)
        await self._record(event)
        headers = [
            (b"location", target.url.encode("ascii", "strict")),
            (b"content-length", b"0"),
            _NO_STORE,
            (b"referrer-policy", b"no-referrer"),
        ]
        await _respond(send, scope, 302, headers, b"")

    def _event(
        self, scope: Scope, kind: EventKind, message: str, sent_at: int, link: int | None
    ) -> Event:
        evidence: dict[str, str] = {}
        user_agent = None
        forwarded = None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value[:MAX_HEADER_VALUE].decode("latin-1")
            elif name in EVIDENCE_HEADERS:
                evidence[name.decode("latin-1")] = value[:MAX_HEADER_VALUE].decode("latin-1")
            elif name == b"x-forwarded-for":
                forwarded = value.decode("latin-1")
        peer = scope["client"][0] if scope.get("client") else None
        ip = self._client.address(peer, forwarded)
        if forwarded is not None and self._client.trusts(peer):
            evidence["x-forwarded-for"] = self._client.for_storage(forwarded)
        return Event(
            message=message,
            kind=kind,
            ts=time.time(),
            method=scope["method"],
            sent_at=sent_at,
            link=link,
            ip=ip,
            user_agent=user_agent,
            headers=evidence,
        )


async def _respond(
    send: Send, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
