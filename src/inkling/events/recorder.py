"""Group commit on the event loop: the hits of one loop iteration, one journal write.

Each request hands its hit record to :meth:`Recorder.record` and awaits what it returns:
the future of the batch the hit joined, shared by every hit of that batch. The first hit
of a batch schedules the batch's write for the loop's next turn, so every request read in
this turn joins it. The write is a single ``os.write`` on the loop's own thread (no writer
thread, no hand-over); in ``process`` durability that is all, and the batch's future is
done at once. In ``power`` durability a sync thread flushes (fdatasync, which releases the
GIL) and reports back once per flush: batches written while one flush runs are covered by
the next.

A batch that cannot be written (the disk is full or failing) fails its future with
:class:`JournalError`; the tracker still answers those requests, marked unrecorded.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from inkling.errors import JournalError
from inkling.events.journal import Durability, HitRecord, JournalWriter

log = logging.getLogger(__name__)


class BatchCommit(asyncio.Future[None]):
    """The future every hit of one batch awaits: done once the batch is durable.

    It is shared, so a request that is cancelled while it waits must not cancel it for the
    others (asyncio cancels the future a cancelled task awaits): it stays pending, and the
    cancelled task gets its ``CancelledError`` once the batch is written.
    """

    def cancel(self, msg: Any = None) -> bool:
        return False


class Recorder:
    """Writes the hits of each loop iteration to the journal as one frame."""

    def __init__(
        self, journal: JournalWriter, *, flush_seconds: Callable[[float], None] | None = None
    ) -> None:
        """``flush_seconds`` is told how long each flush to the disk took (power
        durability; ``/metrics``), on the sync thread."""
        self._journal = journal
        self._flush_seconds = flush_seconds
        self._power = journal.durability is Durability.POWER
        self._loop: asyncio.AbstractEventLoop | None = None
        self._open: list[HitRecord] = []
        self._commit: BatchCommit | None = None
        # power durability: batches written, waiting for the next flush
        self._unsynced: list[BatchCommit] = []
        self._syncing = False
        self._syncs: queue.SimpleQueue[list[BatchCommit] | None] = queue.SimpleQueue()
        self._sync_thread: threading.Thread | None = None
        self._idle: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def journal(self) -> JournalWriter:
        return self._journal

    def start(self) -> None:
        """Start taking hits on the running loop (the journal is open already)."""
        self._loop = asyncio.get_running_loop()
        if self._power:
            self._sync_thread = threading.Thread(
                target=self._sync_forever, name="inkling-journal-sync", daemon=True
            )
            self._sync_thread.start()

    def record(self, record: HitRecord) -> asyncio.Future[None]:
        """Queue a hit; the future is done once its batch is in the journal (and on the
        disk, in power durability), and fails with JournalError if it could not be."""
        commit = self._commit
        if commit is None:
            loop = self._loop
            if loop is None or self._closed:
                raise JournalError("the recorder is not running")
            commit = self._commit = BatchCommit(loop=loop)
            loop.call_soon(self._flush)
        self._open.append(record)
        return commit

    async def close(self) -> None:
        """Write what is queued, wait for its flush, and close the journal."""
        self._closed = True
        if self._commit is not None:
            self._flush()
        if self._syncing or self._unsynced:
            self._idle = asyncio.get_running_loop().create_future()
            await self._idle
        if self._sync_thread is not None:
            self._syncs.put(None)
            await asyncio.to_thread(self._sync_thread.join)
        self._journal.close()

    # -- on the event loop ----------------------------------------------------------------

    def _flush(self) -> None:
        records, commit = self._open, self._commit
        self._open, self._commit = [], None
        if commit is None:
            return
        try:
            self._journal.append(records, rotate=not self._power)
        except JournalError as exc:
            commit.set_exception(exc)
            if self._power and self._journal.rotate_soon and not self._syncing:
                self._journal.rotate()  # nothing waits for a flush of this segment
            return
        if not self._power:
            commit.set_result(None)
            return
        self._unsynced.append(commit)
        if not self._syncing:
            self._hand_over()

    def _hand_over(self) -> None:
        commits, self._unsynced = self._unsynced, []
        self._syncing = True
        self._syncs.put(commits)

    def _synced(self, commits: list[BatchCommit], error: JournalError | None) -> None:
        self._syncing = False
        if error is not None:
            # Nothing written to that file since its last good flush can be trusted: fail
            # the batches waiting too, and go on in a new segment.
            commits, self._unsynced = commits + self._unsynced, []
            self._journal.rotate()
        elif self._journal.full or self._journal.rotate_soon:
            # Rotate between flushes: closing the segment flushes what was written to it
            # since this flush began, which settles the batches waiting for it.
            waiting, self._unsynced = self._unsynced, []
            flushed = self._journal.rotate()
            _settle(waiting, None if flushed else JournalError("cannot flush the journal"))
        if self._unsynced:
            self._hand_over()
        elif self._idle is not None and not self._idle.done():
            self._idle.set_result(None)
        _settle(commits, error)

    # -- on the sync thread (power durability) ---------------------------------------------

    def _sync_forever(self) -> None:
        loop = self._loop
        assert loop is not None
        while (commits := self._syncs.get()) is not None:
            error: JournalError | None = None
            began = time.perf_counter()
            try:
                self._journal.sync()
            except JournalError as exc:
                error = exc
                log.error("%s", exc)
            if self._flush_seconds is not None:
                self._flush_seconds(time.perf_counter() - began)
            try:
                loop.call_soon_threadsafe(self._synced, commits, error)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return


def _settle(commits: list[BatchCommit], error: JournalError | None) -> None:
    for commit in commits:
        if error is None:
            commit.set_result(None)
        else:
            commit.set_exception(error)
