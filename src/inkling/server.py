"""What ``inkling serve`` runs, as one ASGI app: the tracker first, then everything else.

The tracker answers ``/t/...`` itself; the rest goes to a small fallback: the JSON API
under ``/api`` (and the customer-facing notice at ``/p/``), ``/healthz`` (the process
answers), ``/readyz`` (it can record hits; the database, the journal's backlog and the
disk), ``/metrics`` (Prometheus), and the dashboard (``web/``) for every other path, which
answers 404 for what it does not know. Its lifespan opens the journal and starts the
loader and the companions (relay, inbound MX, IMAP poller); on shutdown it stops them in
the reverse order, writing what is queued.
The pieces come built from the composition root (``root.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from inkling.collector import tune_collector
from inkling.events.legacy import adopt_spool
from inkling.events.loader import Loader
from inkling.events.recorder import Recorder
from inkling.routes import NOTICE_PREFIX
from inkling.store import Store
from inkling.tracker.app import ASGIApp, Receive, Scope, Send, Tracker

log = logging.getLogger(__name__)

#: Starts something that runs beside the tracker (the SMTP relay, the inbound server) and
#: returns how to stop it. Called at start-up, in a worker thread; may raise.
Companion = Callable[[], Callable[[], None]]
#: Below this much free space where the journal lives, the node says it is not ready.
MIN_FREE_BYTES = 16 * 1024 * 1024


@dataclass
class Node:
    """The parts of a running node, built by the root; ``tracker`` makes the tracker
    around the fallback app (the node's own paths and the API)."""

    recorder: Recorder
    loader: Loader
    store: Store
    api: ASGIApp
    companions: Sequence[Companion]
    tracker: Callable[[ASGIApp], Tracker]
    data_dir: Path
    web: ASGIApp | None = None  # the dashboard, at every path not taken above

    def open(self) -> None:
        """Take the journal (JournalError, in one line, if another process has it or it
        cannot be written), with any hits an older version left in its spool."""
        self.recorder.journal.open()
        adopt_spool(self.data_dir, self.recorder.journal)

    def app(self) -> Tracker:
        fallback = _Fallback(self)
        tracker = self.tracker(fallback)
        fallback.tracker = tracker
        return tracker


class _Fallback:
    """Lifespan, health, readiness, metrics, the API, and 404 for the rest."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._stops: list[Callable[[], None]] = []
        self.tracker: Tracker | None = None
        self._registry = CollectorRegistry(auto_describe=True)
        self._registry.register(_Metrics(self))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            path = scope["path"]
            if path.startswith(("/api/", NOTICE_PREFIX)):  # the API app serves the notice
                await self._node.api(scope, receive, send)
            elif path == "/healthz":
                await _json(send, 200, {"status": "ok"})
            elif path == "/readyz":
                ready, body = self.readiness()
                await _json(send, 200 if ready else 503, body)
            elif path == "/metrics":
                metrics = await asyncio.to_thread(generate_latest, self._registry)
                await _respond(send, 200, CONTENT_TYPE_LATEST.encode(), metrics)
            elif self._node.web is not None:
                await self._node.web(scope, receive, send)
            else:
                await _json(send, 404, {"error": "not found"})

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether this node can record hits, and what it knows of its parts."""
        recorder, status = self._node.recorder, self._node.loader.status
        journal = recorder.journal
        free = _free_bytes(journal.directory)
        writable = journal.segment is not None and free >= MIN_FREE_BYTES
        backlog = self._node.loader.backlog_events()
        oldest = status.oldest_ts
        body = {
            "status": "ready" if writable else "not_ready",
            "database": {
                "reachable": status.database_reachable,
                "error": status.database_error,
            },
            "journal": {
                "writable": writable,
                "backlog_events": backlog,
                "backlog_bytes": status.backlog_bytes,
                "oldest_age_s": None if oldest is None else round(time.time() - oldest, 3),
                "loaded_events": status.loaded,
                "verdict_lag_s": status.last_lag_s,
                "unrecorded_hits": self.tracker.unrecorded if self.tracker else 0,
                "durability": journal.durability.value,
            },
            "disk": {"free_bytes": free},
        }
        return writable, body

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._start()
                except Exception as exc:  # noqa: BLE001 (said in one line, and to uvicorn)
                    log.error("cannot start: %s", exc)
                    await self._stop_companions()
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop_companions()
                await self._node.recorder.close()
                await asyncio.to_thread(self._node.loader.stop)
                self._node.store.close()
                log.info("journal written and loaded as far as possible; shutting down")
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> None:
        self._node.recorder.start()
        self._node.loader.start()
        for start in self._node.companions:
            self._stops.append(await asyncio.to_thread(start))
        tune_collector()

    async def _stop_companions(self) -> None:
        while self._stops:
            await asyncio.to_thread(self._stops.pop())


class _Metrics(Collector):
    """The node's counters, read when Prometheus scrapes (the hot path counts in plain
    integers; a metrics library's locked counter per hit would cost more than the hit)."""

    def __init__(self, fallback: _Fallback) -> None:
        self._fallback = fallback

    def collect(self) -> list[Metric]:
        node = self._fallback._node
        status = node.loader.status
        tracker = self._fallback.tracker
        recorded = CounterMetricFamily(
            "inkling_hits_recorded", "Hits written to the journal since start."
        )
        recorded.add_metric([], node.recorder.journal.appended)
        unrecorded = CounterMetricFamily(
            "inkling_hits_unrecorded",
            "Hits answered but not recorded: the journal could not take them.",
        )
        unrecorded.add_metric([], tracker.unrecorded if tracker else 0)
        loaded = CounterMetricFamily("inkling_hits_loaded", "Hits moved into the database.")
        loaded.add_metric([], status.loaded)
        backlog = GaugeMetricFamily("inkling_journal_backlog_hits", "Hits not yet loaded.")
        backlog.add_metric([], node.loader.backlog_events())
        backlog_bytes = GaugeMetricFamily(
            "inkling_journal_backlog_bytes", "Journal bytes not yet loaded."
        )
        backlog_bytes.add_metric([], status.backlog_bytes)
        up = GaugeMetricFamily("inkling_database_up", "1 if the loader reached the database.")
        up.add_metric([], 1.0 if status.database_reachable else 0.0)
        return [recorded, unrecorded, loaded, backlog, backlog_bytes, up]


def _free_bytes(directory: os.PathLike[str] | str) -> int:
    try:
        stats = os.statvfs(directory)
    except OSError:
        return 0
    return stats.f_bavail * stats.f_frsize


async def _json(send: Send, status: int, payload: object) -> None:
    await _respond(send, status, b"application/json", json.dumps(payload).encode())


async def _respond(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
