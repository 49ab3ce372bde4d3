"""Group commit: many hits, one transaction, every response after its event is durable.

Each request hands its event to :meth:`Recorder.record` and awaits it. A single writer
takes everything queued so far, commits it as one batch in a worker thread, and then
releases all those requests together; hits that arrive meanwhile form the next batch. Under
load a batch grows to cover the time of one commit, so the cost of an fsync is shared by
hundreds of hits instead of paid by each.

If the database refuses a batch, it goes to the disk spool (fsynced) instead, and is moved
into the database once it answers again. Closing the recorder flushes everything queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from inkling.events.model import Event
from inkling.events.spool import Spool
from inkling.store import Store

log = logging.getLogger(__name__)

SPOOL_RETRY_SECONDS = 5.0


class RecorderClosed(RuntimeError):
    """The recorder no longer accepts events (the server is shutting down)."""


class Recorder:
    def __init__(self, store: Store, spool: Spool, *, batch_max: int = 512) -> None:
        self._store = store
        self._spool = spool
        self._spooled = spool.pending()  # known here, so the hot path never stats the disk
        self._batch_max = batch_max
        # One thread owns the writer's connection; the event loop never waits on it.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="inkling-recorder")
        self._writer_connection = store.event_writer()
        self._pending: list[tuple[Event, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None
        self._next_drain = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        # Kept: asyncio.get_running_loop() makes a getpid() system call on every hit.
        self._loop = asyncio.get_running_loop()
        await self._loop.run_in_executor(self._thread, self._drain_spool)
        self._writer = asyncio.create_task(self._run(), name="inkling-recorder")

    async def record(self, event: Event) -> None:
        """Queue ``event`` and return once it is committed (or fsynced to the spool)."""
        if self._closing:
            raise RecorderClosed("the recorder is closed")
        assert self._loop is not None, "start() the recorder first"
        future: asyncio.Future[None] = self._loop.create_future()
        if not self._pending:
            self._wake.set()
        self._pending.append((event, future))
        await future

    async def close(self) -> None:
        """Stop taking events, write everything queued, and stop the writer."""
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            await self._writer
        await asyncio.get_running_loop().run_in_executor(
            self._thread, self._writer_connection.close
        )
        self._thread.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._batch_max]
                del self._pending[: self._batch_max]
                await self._commit(batch)
            if self._closing:
                return

    async def _commit(self, batch: list[tuple[Event, asyncio.Future[None]]]) -> None:
        events = [event for event, _ in batch]
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._write, events)
        except Exception as exc:  # the spool failed too: the hits cannot be acknowledged
            log.exception("could not record %d events", len(events))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    def _write(self, events: Sequence[Event]) -> None:
        """Commit to the database, or fsync to the spool if the database refuses."""
        if self._spooled and time.monotonic() >= self._next_drain:
            self._drain_spool()
        if self._spooled:
            self._spool.append(events)  # keep order: the database is still behind the spool
            return
        try:
            self._writer_connection.write(events)
        except Exception:
            log.warning("database refused %d events; spooling them to disk", len(events))
            self._spool.append(events)
            self._spooled = True
            self._next_drain = time.monotonic() + SPOOL_RETRY_SECONDS

    def _drain_spool(self) -> None:
        try:
            spooled = self._spool.take()
            self._writer_connection.write(spooled)  # one transaction: all or none
            self._spool.done()
            self._spooled = False
        except Exception:
            log.warning("database still unavailable; %s keeps the spooled events", self._spool.path)
            self._next_drain = time.monotonic() + SPOOL_RETRY_SECONDS
        else:
            if spooled:
                log.info("moved %d spooled events into the database", len(spooled))
