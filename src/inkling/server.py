"""The composition root of ``inkling serve``: settings in, one ASGI app out.

Everything the server needs is built here, once, from the settings, and handed down; no
other module reads settings. The app answers the tracker paths itself and sends the rest
to a small fallback: the JSON API under ``/api``, a health check, and 404 for the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence

from inkling.api.app import build_api
from inkling.api.keys import ApiKeys
from inkling.classify import Classifier
from inkling.classify.live import LiveJudge
from inkling.events.recorder import Recorder
from inkling.events.spool import Spool
from inkling.services import Services
from inkling.tracker.app import ASGIApp, Receive, Scope, Send, Tracker
from inkling.tracker.client import ClientAddress

log = logging.getLogger(__name__)

#: Starts something that runs beside the tracker (the SMTP relay, the inbound server) and
#: returns how to stop it. Called at start-up, in a worker thread; may raise.
Companion = Callable[[], Callable[[], None]]


def build_app(services: Services, companions: Sequence[Companion] = ()) -> ASGIApp:
    """The ASGI app for ``inkling serve``, with a lifespan that starts and flushes the
    recorder, and starts and stops the ``companions``."""
    settings = services.settings
    judge = LiveJudge(Classifier.for_data_dir(settings.data_dir))
    recorder = Recorder(
        services.store, Spool(settings.data_dir), batch_max=settings.batch_max, judge=judge
    )
    client = ClientAddress(settings.trusted_proxies, keep_full=settings.store_full_ip)
    api = build_api(services, ApiKeys.for_data_dir(settings.data_dir))
    fallback = _Fallback(recorder, api, companions)
    tracker = Tracker(services.codec, recorder.record, client, fallback=fallback)
    return tracker


class _Fallback:
    """Lifespan, ``/healthz``, the API, and 404 for everything that is not the tracker."""

    def __init__(self, recorder: Recorder, api: ASGIApp, companions: Sequence[Companion]) -> None:
        self._recorder = recorder
        self._api = api
        self._companions = companions
        self._stops: list[Callable[[], None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            if scope["path"].startswith("/api/"):
                await self._api(scope, receive, send)
            elif scope["path"] == "/healthz":
                await _json(send, 200, {"status": "ok"})
            else:
                await _json(send, 404, {"error": "not found"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._recorder.start()
                    for start in self._companions:
                        self._stops.append(await asyncio.to_thread(start))
                except Exception as exc:
                    await self._stop_companions()
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop_companions()
                await self._recorder.close()
                log.info("recorder flushed; shutting down")
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _stop_companions(self) -> None:
        while self._stops:
            await asyncio.to_thread(self._stops.pop())


async def _json(send: Send, status: int, payload: object) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
