"""The floor for the tracker benchmark: a bare ASGI app that answers every request with
the same 43-byte GIF, status and headers as Inkling's pixel, and does nothing else; a
request under ``/t/c/`` (a click) gets a 302 with the headers of Inkling's redirect, to one
fixed help-centre URL (it cannot read the token), so both sides send the same kind of answer
to the realistic traffic of ``bench/traffic.py``.

``bench/tracker.py`` serves it with the same server, loop, HTTP parser and settings as
``inkling serve``, so the ratio Inkling/bare isolates what Inkling adds per hit (decoding
the token, building the event, the group-commit wait) from what the server itself costs.
Run as a script, it *is* ``inkling serve`` with this app swapped in for Inkling's, so it
gets exactly the ``uvicorn.run`` settings of ``inkling serve``, whatever they become::

    INKLING_DATA_DIR=/tmp/bare .venv/bin/python bench/bare_gif.py serve --port 8081

It answers the lifespan protocol (a no-op) so uvicorn and granian treat it exactly like
Inkling's app (granian: ``granian --interface asgi --working-dir bench bare_gif:app``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from inkling.tracker import TRANSPARENT_GIF

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The pixel headers of ``inkling.tracker.app``, byte for byte (the benchmark checks it).
PIXEL_HEADERS = [
    (b"content-type", b"image/gif"),
    (b"content-length", str(len(TRANSPARENT_GIF)).encode()),
    (b"cache-control", b"no-cache, no-store, must-revalidate, private"),
    (b"pragma", b"no-cache"),
    (b"expires", b"0"),
]
_START = {"type": "http.response.start", "status": 200, "headers": PIXEL_HEADERS}

#: Where every click goes: as long as the links of ``bench/traffic.py`` (Inkling's
#: ``Location`` is the URL its token carries).
LOCATION = (
    b"https://help.example.com/hc/en-us/articles/360000000-how-to-update-your-billing-details"
    b"?utm_source=support&utm_medium=email&utm_campaign=ticket-reply"
)
#: The redirect headers of ``inkling.tracker.app``, byte for byte but for the location.
REDIRECT_HEADERS = [
    (b"location", LOCATION),
    (b"content-length", b"0"),
    (b"cache-control", b"no-cache, no-store, must-revalidate, private"),
    (b"referrer-policy", b"no-referrer"),
]
_REDIRECT = {"type": "http.response.start", "status": 302, "headers": REDIRECT_HEADERS}
_CLICK_PREFIX = "/t/c/"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Every HTTP request gets the pixel, or the redirect under ``/t/c/``; lifespan events
    are acknowledged."""
    if scope["type"] == "http":
        # Fresh dicts per request, as the tracker sends: servers may keep a reference.
        if scope["path"].startswith(_CLICK_PREFIX):
            await send(dict(_REDIRECT))
            await send({"type": "http.response.body", "body": b""})
            return
        await send(dict(_START))
        body = b"" if scope["method"] == "HEAD" else TRANSPARENT_GIF
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    """``inkling serve`` (its options, its ``uvicorn.run`` call) serving :func:`app`.

    ``serve`` looks ``uvicorn.run`` up when it calls it, so replacing it here swaps the app
    at the very last moment, whatever Inkling builds before (the services and the journal
    are opened, but nothing runs them: the lifespan is this app's)."""
    import uvicorn

    import inkling.cli

    run = uvicorn.run

    def run_bare(_inkling_app: Any, *args: Any, **kwargs: Any) -> None:
        run(app, *args, **kwargs)

    uvicorn.run = run_bare  # type: ignore[assignment]
    inkling.cli.main()


if __name__ == "__main__":
    main()
