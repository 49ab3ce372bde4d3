"""The recorder: the hits of one loop turn go out as one frame (group commit), every
waiting request is answered once its frame is written (and flushed, in power durability),
and a frame that cannot be written fails its hits alone."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import Any

import pytest

from inkling.errors import JournalError
from inkling.events.journal import Durability, JournalWriter, read_frames, segments
from inkling.events.recorder import Recorder
from tests.events.test_journal import hit


def frames(directory: Path) -> list[list[tuple[Any, ...]]]:
    return [
        frame.records
        for segment in segments(directory)
        for frame in read_frames(segment, 0, max_records=1 << 40)
    ]


def run(journal: JournalWriter, body: Any) -> None:
    async def main() -> None:
        journal.open()
        recorder = Recorder(journal)
        recorder.start()
        try:
            await body(recorder)
        finally:
            await recorder.close()

    asyncio.run(main())


@pytest.mark.parametrize("durability", list(Durability))
def test_concurrent_hits_share_frames_and_are_all_written(
    tmp_path: Path, durability: Durability
) -> None:
    journal = JournalWriter(tmp_path / "journal", durability=durability)

    async def body(recorder: Recorder) -> None:
        async def one(n: int) -> None:
            await recorder.record(hit(n))

        await asyncio.gather(*(one(n) for n in range(300)))

    run(journal, body)
    written = frames(journal.directory)
    assert sorted(r for f in written for r in f) == sorted(hit(n) for n in range(300))
    assert len(written) <= 3, "300 hits of one loop turn go out in a frame or a few"


def test_a_hit_is_answered_only_once_its_frame_is_flushed_in_power_durability(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes: list[float] = []
    real = os.fdatasync

    def slow_flush(fd: int) -> None:
        import time

        time.sleep(0.05)
        real(fd)
        flushes.append(time.monotonic())

    monkeypatch.setattr(os, "fdatasync", slow_flush)
    journal = JournalWriter(tmp_path / "journal", durability=Durability.POWER)

    async def body(recorder: Recorder) -> None:
        import time

        answered: list[float] = []

        async def one(n: int) -> None:
            await recorder.record(hit(n))
            answered.append(time.monotonic())

        started = len(flushes)
        first = asyncio.gather(*(one(n) for n in range(20)))
        await asyncio.sleep(0.01)  # these arrive while the first flush runs
        await asyncio.gather(first, *(one(n) for n in range(20, 40)))
        assert all(t >= flushes[started] for t in answered)
        assert len(flushes) - started <= 3, "batches written during a flush share the next"

    run(journal, body)
    assert len([r for f in frames(journal.directory) for r in f]) == 40


def test_a_cancelled_request_does_not_fail_the_others_of_its_batch(tmp_path: Path) -> None:
    """Hits of one batch share a future: cancelling one request must not cancel it for the
    rest (they are still answered once the batch is written)."""
    journal = JournalWriter(tmp_path / "journal")

    async def body(recorder: Recorder) -> None:
        async def one(n: int) -> None:
            await recorder.record(hit(n))

        tasks = [asyncio.create_task(one(n)) for n in range(10)]
        await asyncio.sleep(0)  # every task is now waiting on the batch
        tasks[3].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[3], asyncio.CancelledError)
        assert all(r is None for n, r in enumerate(results) if n != 3)

    run(journal, body)
    assert len([r for f in frames(journal.directory) for r in f]) == 10  # the cancelled one too


def test_a_frame_that_cannot_be_written_fails_its_hits_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = JournalWriter(tmp_path / "journal")
    real_write = os.write
    failing = False

    def write(fd: int, data: bytes) -> int:
        if failing:
            raise OSError(errno.EIO, "Input/output error")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)

    async def body(recorder: Recorder) -> None:
        nonlocal failing
        await recorder.record(hit(0))
        failing = True
        with pytest.raises(JournalError):
            await recorder.record(hit(1))
        failing = False
        await recorder.record(hit(2))

    run(journal, body)
    assert [r for f in frames(journal.directory) for r in f] == [hit(0), hit(2)]
