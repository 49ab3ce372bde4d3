"""The journal on its own: whole frames or nothing, short writes refused, a full disk
refusing the batch it cannot hold and nothing before it, one writer per data dir."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inkling.errors import JournalError
from inkling.events.journal import Durability, JournalWriter, read_frames, segments


def hit(n: int) -> tuple[Any, ...]:
    """A hit record as the tracker writes it (``RECORD`` in events/journal.py)."""
    headers = [(b"user-agent", f"agent-{n}".encode()), (b"accept", b"*/*")]
    return ("open", "ab" * 10, 1_796_000_000.0 + n, 1_796_000_000, None, "GET",
            "198.51.100.0", "", headers)  # fmt: skip


def read_all(directory: Path) -> list[tuple[Any, ...]]:
    return [
        record
        for segment in segments(directory)
        for frame in read_frames(segment, 0, max_records=1 << 40)
        for record in frame.records
    ]


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[JournalWriter]:
    journal = JournalWriter(tmp_path / "journal")
    journal.open()
    yield journal
    journal.close()


def test_frames_come_back_whole_in_order_with_their_positions(writer: JournalWriter) -> None:
    writer.append([hit(0), hit(1)])
    writer.append([hit(2)])
    [segment] = segments(writer.directory)
    frames = list(read_frames(segment, 0, max_records=100))
    assert [f.first_index for f in frames] == [0, 2]
    assert [r for f in frames for r in f.records] == [hit(0), hit(1), hit(2)]
    assert frames[-1].end == writer.position == segment.path.stat().st_size
    assert segment.event_id(2) == segment.id + "00000002"
    # reading from a frame's end goes on from there
    assert [f.first_index for f in read_frames(segment, frames[0].end, max_records=9)] == [2]


def test_a_torn_frame_is_never_read_and_a_new_start_writes_elsewhere(tmp_path: Path) -> None:
    """A crash mid-write leaves a torn frame at the end: readers stop before it, and the
    next process appends to a new segment, so nothing is ever glued onto it."""
    directory = tmp_path / "journal"
    first = JournalWriter(directory)
    first.open()
    first.append([hit(0)])
    first.append([hit(1), hit(2)])
    [segment] = segments(directory)
    first.close()
    size = segment.path.stat().st_size
    os.truncate(segment.path, size - 5)  # the second frame, torn
    second = JournalWriter(directory)
    second.open()
    second.append([hit(3)])
    second.close()
    assert len(segments(directory)) == 2
    assert read_all(directory) == [hit(0), hit(3)]


def test_a_short_write_is_refused_and_cut_back(
    writer: JournalWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills mid-frame: ``write`` takes part of it, then fails. The batch is
    refused (not acknowledged), the part written is cut off, and the next batch's frame is
    whole and readable: no torn line, nothing glued."""
    writer.append([hit(0)])
    real_write = os.write
    calls = 0

    def filling(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", filling)
    with pytest.raises(JournalError, match="No space left"):
        writer.append([hit(1), hit(2)])
    monkeypatch.setattr(os, "write", real_write)
    [segment] = segments(writer.directory)
    assert segment.path.stat().st_size == writer.position
    writer.append([hit(3)])
    assert read_all(writer.directory) == [hit(0), hit(3)]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real disk that fills up."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_refuses_the_batch_it_cannot_hold_and_keeps_the_rest(
    small_disk: Path,
) -> None:
    journal = JournalWriter(small_disk / "journal")
    journal.open()
    acknowledged: list[tuple[Any, ...]] = []
    refused = 0
    for n in range(2000):
        batch = [hit(n * 3 + k) for k in range(3)]
        try:
            journal.append(batch)
        except JournalError:
            refused += 1
        else:
            acknowledged.extend(batch)
    journal.close()
    assert refused > 0, "the disk never filled"
    assert read_all(small_disk / "journal") == acknowledged


def test_one_writer_per_journal(writer: JournalWriter) -> None:
    other = JournalWriter(writer.directory)
    with pytest.raises(JournalError, match="another Inkling process"):
        other.open()


def test_segments_rotate_at_their_size_and_the_old_ones_are_sealed(tmp_path: Path) -> None:
    journal = JournalWriter(tmp_path / "journal", segment_bytes=1024)
    journal.open()
    for n in range(40):
        journal.append([hit(n)])
    found = segments(journal.directory)
    assert len(found) > 3
    assert [journal.sealed(s) for s in found] == [True] * (len(found) - 1) + [False]
    assert read_all(journal.directory) == [hit(n) for n in range(40)]
    journal.close()
    assert all(journal.sealed(s) for s in found)


def test_power_durability_flushes_each_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []
    real = os.fdatasync

    def flushing(fd: int) -> None:
        flushed.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", flushing)
    journal = JournalWriter(tmp_path / "journal", durability=Durability.POWER)
    journal.open()
    assert flushed, "a new segment's header is flushed before it is used"
    journal.append([hit(0)], rotate=False)
    before = len(flushed)
    journal.sync()
    assert len(flushed) == before + 1
    journal.close()
