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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from inkling.collector import tune_collector
from inkling.errors import StoreError
from inkling.events.legacy import adopt_spool
from inkling.events.loader import Loader
from inkling.events.recorder import Recorder
from inkling.routes import NOTICE_PREFIX
from inkling.store import Store
from inkling.store.webhooks import Webhooks
from inkling.tracker.app import ASGIApp, Receive, Scope, Send, Tracker

log = logging.getLogger(__name__)

#: Starts something that runs beside the tracker (the SMTP relay, the inbound server) and
#: returns how to stop it. Called at start-up, in a worker thread; may raise.
Companion = Callable[[], Callable[[], None]]
#: Below this much free space where the journal lives, the node says it is not ready.
MIN_FREE_BYTES = 16 * 1024 * 1024
#: The histograms' buckets, in seconds: a flush to the disk takes under a millisecond to
#: tens of them, an inbound mail 1 to 3 ms (the parser gives up at 5 s), a loader batch
#: of a thousand hits tens of milliseconds (seconds when the database is slow).
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Timings:
    """The node's histograms, each observed off the hot path (once a loader batch, a
    flush of the journal, an inbound mail), read when Prometheus scrapes. The root hands
    each one's ``observe`` to what it times."""

    def __init__(self) -> None:
        self.loader_batch = _histogram(
            "inkling_loader_batch_seconds",
            "Seconds each batch of hits took to load: read from the journal, judged, stored.",
        )
        self.journal_flush = _histogram(
            "inkling_journal_flush_seconds",
            "Seconds each flush of the journal to the disk took (durability power only).",
        )
        self.inbound_parse = _histogram(
            "inkling_inbound_parse_seconds",
            "Seconds each inbound mail (bounce, read receipt, reply) took to parse.",
        )

    def collect(self) -> list[Metric]:
        timed = (self.loader_batch, self.journal_flush, self.inbound_parse)
        return [metric for histogram in timed for metric in histogram.collect()]


def _histogram(name: str, documentation: str) -> Histogram:
    return Histogram(name, documentation, buckets=BUCKETS, registry=None)


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
    timings: Timings = field(default_factory=Timings)

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
        self._outbox = Webhooks(fallback._node.store.database)

    def collect(self) -> list[Metric]:
        node = self._fallback._node
        return [
            *self._hits(),
            *self._loader(),
            *node.timings.collect(),
            *self._database(),
        ]

    def _hits(self) -> list[Metric]:
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

    def _loader(self) -> list[Metric]:
        """What the loader judged, and how far behind it is."""
        status = self._fallback._node.loader.status
        verdicts = CounterMetricFamily(
            "inkling_verdicts",
            "Hits loaded since start, by the verdict and the agent they were stored with.",
            labels=["verdict", "agent"],
        )
        for (verdict, agent), count in status.verdicts.items():  # a whole dict: see its note
            verdicts.add_metric([str(verdict), str(agent) if agent else "none"], count)
        age = GaugeMetricFamily(
            "inkling_journal_backlog_age_seconds",
            "Seconds since the oldest hit not yet loaded was recorded (0: none waits).",
        )
        oldest = status.oldest_ts
        age.add_metric([], 0.0 if oldest is None else max(0.0, time.time() - oldest))
        lag = GaugeMetricFamily(
            "inkling_loader_lag_seconds",
            "Seconds from the oldest hit of the last batch loaded to its verdict stored.",
        )
        if status.last_lag_s is not None:
            lag.add_metric([], status.last_lag_s)
        return [verdicts, age, lag]

    def _database(self) -> list[Metric]:
        """The queue's depth and the webhook outbox, read from the database now; no value
        while it is unreachable (the loader's word for it: no scrape waits on a timeout)."""
        node = self._fallback._node
        tickets = GaugeMetricFamily(
            "inkling_tickets_open",
            "Tickets open (neither solved nor closed): the queue's depth. No value while "
            "the database is unreachable.",
        )
        outbox = GaugeMetricFamily(
            "inkling_webhook_outbox_deliveries",
            "Webhook deliveries in the outbox: pending (not delivered yet) and failed (given "
            "up on). No value while the database is unreachable.",
            labels=["state"],
        )
        if node.loader.status.database_reachable:
            try:
                tickets.add_metric([], node.store.tickets.count_open())
                for state, count in self._outbox.outbox_counts().items():
                    outbox.add_metric([state.value], count)
            except StoreError as exc:
                log.debug("metrics: cannot read the queue or the outbox: %s", exc)
        return [tickets, outbox]


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
