"""Group commit: many hits, one transaction, every response after its event is durable.

Each request hands its event to :meth:`Recorder.record` and awaits what it returns: the
future of the batch the event joined, shared by every hit of that batch. A writer thread
commits one batch at a time; hits that arrive meanwhile form the next batch. Under load a
batch grows to cover the time of one commit, so the cost of an fsync is shared by many hits
instead of paid by each.

The hot path is kept to a list append and the await: no future, coroutine or wake-up per
hit. The event loop and the writer thread meet once per batch in each direction: the loop
hands a batch over through a queue, and the thread reports back with one
``call_soon_threadsafe``, whose callback releases the whole batch and hands over the next.

If the database refuses a batch, it goes to the disk spool (fsynced) instead, and is moved
into the database once it answers again. Closing the recorder flushes everything queued.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from inkling.events.model import Event, VerdictChange
from inkling.events.spool import Spool
from inkling.store import Store

if TYPE_CHECKING:
    from inkling.classify.live import LiveJudge

log = logging.getLogger(__name__)

SPOOL_RETRY_SECONDS = 5.0


class RecorderClosed(RuntimeError):
    """The recorder no longer accepts events (the server is shutting down)."""


class BatchCommit(asyncio.Future[None]):
    """The future every hit of one batch awaits: done once the batch is durable.

    It is shared, so a request that is cancelled while it waits must not cancel it for the
    others (asyncio cancels the future a cancelled task awaits): it stays pending, and the
    cancelled task gets its ``CancelledError`` once the batch is written.
    """

    def cancel(self, msg: Any = None) -> bool:
        return False


_Job = tuple[Callable[[], object], asyncio.Future[None]]


class Recorder:
    def __init__(
        self,
        store: Store,
        spool: Spool,
        *,
        batch_max: int = 512,
        judge: LiveJudge | None = None,
    ) -> None:
        self._store = store
        self._judge = judge  # gives each batch its verdicts, on the writer thread
        self._spool = spool
        self._spooled = spool.pending()  # known here, so the hot path never stats the disk
        self._batch_max = batch_max
        self._writer_connection = store.event_writer()
        self._loop: asyncio.AbstractEventLoop | None = None
        # The open batch: events of hits that arrived since the last hand-over, and the
        # future they all wait on. Full batches wait in _full while the writer is busy.
        self._open: list[Event] = []
        self._open_commit: BatchCommit | None = None
        self._full: deque[tuple[list[Event], BatchCommit]] = deque()
        self._busy = False  # the writer thread has a job
        self._idle: asyncio.Future[None] | None = None  # close() waits on it
        self._closing = False
        self._next_drain = 0.0
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        # One thread owns the writer's connection; the event loop never waits on it.
        self._thread = threading.Thread(target=self._work, name="inkling-recorder", daemon=True)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread.start()
        done = self._loop.create_future()
        self._submit(self._drain_spool, done)
        await done

    def record(self, event: Event) -> asyncio.Future[None]:
        """Queue ``event``; the returned future is done once it is committed (or fsynced to
        the spool), and fails if neither could be done."""
        commit = self._open_commit
        if commit is None:
            if self._closing:
                raise RecorderClosed("the recorder is closed")
            loop = self._loop
            assert loop is not None, "start() the recorder first"
            commit = self._open_commit = BatchCommit(loop=loop)
            if not self._busy:
                # Hand it over once the loop has read the hits that arrived with this one.
                loop.call_soon(self._hand_over)
        events = self._open
        events.append(event)
        if len(events) >= self._batch_max:
            self._full.append((events, commit))
            self._open = []
            self._open_commit = None
        return commit

    async def close(self) -> None:
        """Stop taking events, write everything queued, and stop the writer."""
        self._closing = True
        loop = asyncio.get_running_loop()
        if self._thread.is_alive():
            if self._busy or self._open or self._full:
                self._idle = loop.create_future()
                if not self._busy:
                    self._hand_over()
                await self._idle
            done = loop.create_future()
            self._submit(self._writer_connection.close, done)
            self._jobs.put(None)  # the thread stops once the connection is closed
            await done
            self._thread.join()
        else:
            self._writer_connection.close()

    # -- on the event loop ----------------------------------------------------------------

    def _hand_over(self) -> None:
        """Give the writer the oldest waiting batch, if it is free and there is one."""
        if self._busy:
            return
        if self._full:
            events, commit = self._full.popleft()
        elif self._open_commit is not None:
            events, commit = self._open, self._open_commit
            self._open = []
            self._open_commit = None
        else:
            if self._idle is not None and not self._idle.done():
                self._idle.set_result(None)
            return
        self._submit(lambda: self._write(events), commit)

    def _submit(self, work: Callable[[], object], done: asyncio.Future[None]) -> None:
        self._busy = True
        self._jobs.put((work, done))

    def _finished(self, done: asyncio.Future[None], error: BaseException | None) -> None:
        self._busy = False
        self._hand_over()  # first, so the next commit starts while this batch is answered
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    # -- on the writer thread -------------------------------------------------------------

    def _work(self) -> None:
        loop = self._loop
        assert loop is not None
        jobs = self._jobs
        while (job := jobs.get()) is not None:
            work, done = job
            error: BaseException | None = None
            try:
                work()
            except Exception as exc:  # the spool failed too: the hits cannot be acknowledged
                error = exc
                log.exception("the recorder could not write")
            try:
                loop.call_soon_threadsafe(self._finished, done, error)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return

    def _write(self, events: Sequence[Event]) -> None:
        """Judge the batch, then commit it to the database, or fsync it to the spool if the
        database refuses (verdict changes of earlier events go only to the database)."""
        changes = self._verdicts(events)
        if self._spooled and time.monotonic() >= self._next_drain:
            self._drain_spool()
        if self._spooled:
            self._spool.append(events)  # keep order: the database is still behind the spool
            return
        try:
            self._writer_connection.write(events, changes)
        except Exception:
            log.warning("database refused %d events; spooling them to disk", len(events))
            self._spool.append(events)
            self._spooled = True
            self._next_drain = time.monotonic() + SPOOL_RETRY_SECONDS

    def _verdicts(self, events: Sequence[Event]) -> list[VerdictChange]:
        if self._judge is None:
            return []
        try:
            return self._judge.judge(events, time.time())
        except Exception:  # a classifier bug must never cost a hit: keep it, unjudged
            log.exception("could not judge %d events; they stay unknown", len(events))
            return []

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
