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
from inkling.tokens import HONEYPOT_LINK, TokenCodec
from inkling.tracker.client import ClientAddress

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RecordFn = Callable[[Event], Awaitable[None]]

PIXEL_PREFIX = "/t/o/"
CLICK_PREFIX = "/t/c/"
HONEYPOT_PREFIX = "/t/h/"

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

# What the tracker does with a request header, looked up once per header.
_EVIDENCE, _USER_AGENT, _FORWARDED = "evidence", "user-agent", "x-forwarded-for"
_HEADER_ROLES: dict[bytes, str] = {name: _EVIDENCE for name in EVIDENCE_HEADERS} | {
    b"user-agent": _USER_AGENT,
    b"x-forwarded-for": _FORWARDED,
}
_HEADER_NAMES = {name: name.decode("latin-1") for name in EVIDENCE_HEADERS}
_PIXEL_TOKEN = len(PIXEL_PREFIX)

_NO_STORE = (b"cache-control", b"no-cache, no-store, must-revalidate, private")
_PIXEL_HEADERS = [
    (b"content-type", b"image/gif"),
    (b"content-length", str(len(TRANSPARENT_GIF)).encode()),
    _NO_STORE,
    (b"pragma", b"no-cache"),
    (b"expires", b"0"),
]
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
    ``/t/h/{token}``; other paths go to
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
        if scope["type"] == "http":
            method: str = scope["method"]
            if method == "GET" or method == "HEAD":
                path: str = scope["path"]
                if path.startswith(PIXEL_PREFIX) and path.endswith(".gif"):
                    # The pixel, inline: every coroutine less is a frame less per hit.
                    try:
                        target = self._codec.open_open(path[_PIXEL_TOKEN:-4])
                    except TokenError:
                        pass
                    else:
                        await self._record(
                            self._event(scope, EventKind.OPEN, target.message, target.sent_at)
                        )
                    await send(
                        {"type": "http.response.start", "status": 200, "headers": _PIXEL_HEADERS}
                    )
                    await send(
                        {
                            "type": "http.response.body",
                            "body": b"" if method == "HEAD" else TRANSPARENT_GIF,
                        }
                    )
                    return
                if path.startswith(CLICK_PREFIX):
                    await self._click(scope, send, path[len(CLICK_PREFIX) :])
                    return
                if path.startswith(HONEYPOT_PREFIX):
                    await self._honeypot(scope, send, path[len(HONEYPOT_PREFIX) :])
                    return
        if self._fallback is not None:
            await self._fallback(scope, receive, send)
        elif scope["type"] == "http":
            await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)

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

    async def _honeypot(self, scope: Scope, send: Send, token: str) -> None:
        """The hidden link no person can reach: recorded as a click on link 65535, answered
        with a blank page (there is nowhere to send a scanner)."""
        try:
            target = self._codec.open_open(token)
        except TokenError:
            await _respond(send, scope, 404, _NOT_FOUND_HEADERS, _NOT_FOUND_BODY)
            return
        event = self._event(scope, EventKind.CLICK, target.message, target.sent_at, HONEYPOT_LINK)
        await self._record(event)
        await _respond(send, scope, 200, _BLANK_HEADERS, b"")

    def _event(
        self,
        scope: Scope,
        kind: EventKind,
        message: str,
        sent_at: int,
        link: int | None = None,
    ) -> Event:
        evidence: dict[str, str] = {}
        user_agent = None
        forwarded = None
        for name, value in scope["headers"]:
            role = _HEADER_ROLES.get(name)
            if role is None:  # most headers: one dict look-up each
                continue
            if role is _EVIDENCE:
                evidence[_HEADER_NAMES[name]] = value[:MAX_HEADER_VALUE].decode("latin-1")
            elif role is _USER_AGENT:
                user_agent = value[:MAX_HEADER_VALUE].decode("latin-1")
            else:
                forwarded = value.decode("latin-1")
        client = scope.get("client")
        peer = client[0] if client else None
        ip = self._client.address(peer, forwarded)
        if forwarded is not None:
            if self._client.trusts(peer):
                evidence["x-forwarded-for"] = self._client.for_storage(forwarded)
            peer = self._client.client(peer, forwarded)
        return Event(
            message,
            kind,
            time.time(),
            scope["method"],
            sent_at,
            link,
            ip,
            user_agent,
            evidence,
            peer=peer,
        )


async def _respond(
    send: Send, scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
