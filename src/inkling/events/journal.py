"""The journal: every hit is appended here, in the data dir, before it is answered.

It is the one path of every hit, whatever the database is doing: the tracker appends a
batch and answers; the loader (``loader.py``) moves what was appended into the database
later, in large batches, and removes what it has moved. A database outage is not a special
case: the journal grows while the loader waits.

On disk, ``journal/`` holds segments, written one after the other and named
``{sequence:010d}-{segment id}.journal``. A segment is a 16-byte header (``INKJ``, a format
version, three zero bytes, the segment id: 8 random bytes) followed by frames, one per
batch of hits::

    length (4, little-endian) | CRC-32 (4) | index of its first hit (8) | payload

The payload is a ``marshal``-ed list of hit records (tuples in the order of ``RECORD``);
the CRC covers the index and the payload. A frame counts only when it is whole: a reader
stops at the first frame that runs past the end of the file or fails its CRC, and a
writer whose write came up short cuts the file back to the last whole frame before saying
so (the batch is then not acknowledged). So in every segment the whole frames are a prefix
and nothing valid follows a torn one. A segment is never appended to after the process that
wrote it stops: each start begins a new one.

Each hit's id is its segment's id and its index in the segment (``EventId``: 16 + 8 hex
digits), fixed when it is written: loading the same frame twice stores nothing twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import marshal
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from inkling.errors import JournalError
from inkling.model import EventId

log = logging.getLogger(__name__)

MAGIC = b"INKJ"
FORMAT = 1
_HEADER = struct.Struct("<4sB3x8s")
_FRAME = struct.Struct("<IIQ")
#: No frame is larger (a batch is at most a few thousand hits): a longer length read from
#: a torn file is garbage, not a reason to read gigabytes.
MAX_FRAME_BYTES = 64 * 1024 * 1024
DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024
#: A segment loaded completely is rotated once it holds this much, so that the journal
#: stays small while the database keeps up, and the loader can remove what it moved.
ROTATE_LOADED_BYTES = 1024 * 1024
#: Version 4 writes a string or bytes object that repeats within a frame (a header name,
#: a browser's user agent) once: frames a third of the size, so less to checksum and read.
_MARSHAL_VERSION = 4
_NAME = re.compile(r"^(\d{10})-([0-9a-f]{16})\.journal$")
LOCK_FILE = "LOCK"

#: The fields of a hit record, in order (the tracker builds them as plain tuples).
#: ``headers`` is a list of (name, value) pairs as bytes: the user agent and the evidence
#: headers the tracker keeps, decoded by the loader.
RECORD = (
    "kind",
    "message",
    "ts",
    "sent_at",
    "link",
    "method",
    "ip",
    "network",
    "headers",
)
HitRecord = tuple[Any, ...]


class Durability(StrEnum):
    """When a hit counts as recorded (``durability`` in the settings)."""

    #: Written to the journal file (the kernel has it): survives kill -9 and any crash of
    #: Inkling, not a power cut or a kernel crash.
    PROCESS = "process"
    #: Written and flushed to the disk (fdatasync) before the answer: survives a power cut.
    POWER = "power"


@dataclass(frozen=True, slots=True)
class Segment:
    """A journal file: its place in the order, its id and path."""

    sequence: int
    id: str
    path: Path

    def event_id(self, index: int) -> EventId:
        return EventId(f"{self.id}{index:08x}")


@dataclass(frozen=True, slots=True)
class Frame:
    """One batch read back: its hits, the index of the first, where the next frame starts."""

    first_index: int
    records: list[HitRecord]
    end: int


def segments(directory: Path) -> list[Segment]:
    """The segments in ``directory``, oldest first."""
    found = []
    try:
        paths = list(directory.iterdir())
    except FileNotFoundError:
        return []
    for path in paths:
        match = _NAME.match(path.name)
        if match:
            found.append(Segment(int(match.group(1)), match.group(2), path))
    return sorted(found, key=lambda s: s.sequence)


class JournalWriter:
    """Appends batches to the newest segment; used from the event loop's thread only,
    except :meth:`sync`, which a sync thread may call."""

    def __init__(
        self,
        directory: Path,
        *,
        durability: Durability = Durability.PROCESS,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> None:
        self.directory = directory
        self.durability = durability
        self._segment_bytes = segment_bytes
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self.segment: Segment | None = None
        self.position = 0  # end of the last whole frame in the active segment
        self.next_index = 0
        self.appended = 0  # hits appended since start (all segments)
        #: Set (by the loader's thread, or after a failed write) when the active segment
        #: should be closed at the next chance: it was moved into the database already.
        self.rotate_soon = False
        self._loaded: tuple[str, int] | None = None  # (segment id, position) loaded
        self._fd_lock = threading.Lock()  # sync() and rotation never overlap

    def open(self) -> None:
        """Lock the journal directory and start a fresh segment.

        Raises JournalError if another Inkling process uses this data dir, or the directory
        cannot be written.
        """
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalError(f"cannot use the journal in {self.directory}: {exc}") from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise JournalError(
                f"another Inkling process is using the journal in {self.directory} "
                "(one data dir per running node)"
            ) from exc
        self._start_segment()

    @property
    def full(self) -> bool:
        """Whether the active segment has reached its size and should be rotated."""
        return self.position >= self._segment_bytes

    def append(self, records: list[HitRecord], *, rotate: bool = True) -> None:
        """Write ``records`` as one frame; returns once the whole frame is in the file.
        With ``rotate``, a segment that is now full is closed and the next one started
        (power durability rotates itself, between flushes: see Recorder).

        Raises JournalError, leaving the file as it was, if the frame cannot be written
        (disk full, I/O error): none of the batch is recorded then.
        """
        if rotate and self.rotate_soon:
            self.rotate()
        if self._fd is None:
            self._start_segment()  # after a failed rotation: try again, now
        assert self._fd is not None and self.segment is not None
        payload = marshal.dumps(records, _MARSHAL_VERSION)
        index = self.next_index
        head = _FRAME.pack(len(payload), _crc(index, payload), index)
        self._write(head + payload)
        self.position += len(head) + len(payload)
        self.next_index += len(records)
        self.appended += len(records)
        if rotate and self.full:
            self.rotate()

    def sync(self) -> None:
        """Flush what was appended so far to the disk (fdatasync); thread-safe. Raises
        JournalError if the disk reports a failure."""
        with self._fd_lock:
            if self._fd is None:
                return
            try:
                os.fdatasync(self._fd)
            except OSError as exc:
                raise JournalError(f"cannot flush the journal to disk: {exc}") from exc

    def mark_loaded(self, segment_id: str, position: int) -> None:
        """Told by the loader (from its thread) how far a segment is in the database; a
        large active segment loaded to its end is rotated at the next append."""
        self._loaded = (segment_id, position)
        active = self.segment
        if (
            active is not None
            and active.id == segment_id
            and position >= ROTATE_LOADED_BYTES
            and position >= self.position
        ):
            self.rotate_soon = True

    def rotate(self) -> bool:
        """Close the active segment and start the next one; False if flushing the closed
        one failed (power durability: what it held since its last flush may be lost). If
        the next cannot be made (disk full), the journal has no active segment until an
        append manages to start one."""
        self.rotate_soon = False
        flushed = self._close_segment()
        with contextlib.suppress(JournalError):
            self._start_segment()
        return flushed

    def close(self) -> None:
        self._close_segment()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _write(self, data: bytes) -> None:
        """Write all of ``data`` at the end, or cut the file back and raise JournalError."""
        fd = self._fd
        assert fd is not None
        done = 0
        try:
            while done < len(data):
                done += os.write(fd, data[done:] if done else data)
        except OSError as exc:
            self._cut_back()
            if self.segment is not None and self._loaded == (self.segment.id, self.position):
                # The disk is full and all this segment holds is in the database: close it,
                # so the loader can remove it and make room.
                self.rotate_soon = True
            raise JournalError(f"cannot write the journal: {exc.strerror or exc}") from exc

    def _cut_back(self) -> None:
        """Remove a torn frame; if even that fails, give up this segment for a new one."""
        try:
            assert self._fd is not None
            os.ftruncate(self._fd, self.position)
        except OSError as exc:
            log.error("cannot cut the torn end off %s (%s): starting a new segment", self, exc)
            self.rotate()

    def _start_segment(self) -> None:
        # Under the lock from the file's creation to its use, so that the loader, asking
        # sealed(), never takes a segment being started for one nobody writes to.
        with self._fd_lock:
            existing = segments(self.directory)
            sequence = existing[-1].sequence + 1 if existing else 1
            ident = os.urandom(8).hex()
            path = self.directory / f"{sequence:010d}-{ident}.journal"
            fd = self._create(path, bytes.fromhex(ident))
            self._fd, self.segment = fd, Segment(sequence, ident, path)
            self.position, self.next_index = _HEADER.size, 0

    def _create(self, path: Path, ident: bytes) -> int:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except OSError as exc:
            raise JournalError(f"cannot start a journal segment: {exc.strerror or exc}") from exc
        header = _HEADER.pack(MAGIC, FORMAT, ident)
        try:
            if os.write(fd, header) != len(header):
                raise OSError("short write")
            if self.durability is Durability.POWER:
                os.fdatasync(fd)
                _sync_directory(self.directory)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise JournalError(f"cannot start a journal segment: {exc}") from exc
        return fd

    def sealed(self, segment: Segment) -> bool:
        """Whether nothing more will be appended to ``segment`` (thread-safe)."""
        with self._fd_lock:
            return self.segment is None or segment.sequence < self.segment.sequence

    def _close_segment(self) -> bool:
        with self._fd_lock:
            fd, self._fd = self._fd, None
            self.segment = None
            if fd is None:
                return True
            try:
                if self.durability is Durability.POWER:
                    os.fdatasync(fd)
            except OSError as exc:
                log.error("cannot flush a journal segment: %s", exc)
                return False
            finally:
                os.close(fd)
            return True

    def __repr__(self) -> str:
        return f"JournalWriter({self.segment.path if self.segment else self.directory})"


def read_frames(segment: Segment, position: int, *, max_records: int) -> Iterator[Frame]:
    """The whole frames of ``segment`` from ``position`` (0: its start), until a torn
    frame or the end, or until about ``max_records`` hits have been read."""
    try:
        handle = segment.path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        if position < _HEADER.size:
            if not _header_ok(handle.read(_HEADER.size), segment):
                log.error("%s is not a journal segment of this data dir; skipped", segment.path)
                return
            position = _HEADER.size
        handle.seek(position)
        count = 0
        while count < max_records:
            frame = _next_frame(handle, position)
            if frame is None:
                return
            yield frame
            count += len(frame.records)
            position = frame.end


def _next_frame(handle: Any, position: int) -> Frame | None:
    head = handle.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    length, crc, first_index = _FRAME.unpack(head)
    if length > MAX_FRAME_BYTES:
        return None
    payload = handle.read(length)
    if len(payload) < length or _crc(first_index, payload) != crc:
        return None
    try:
        records = marshal.loads(payload)  # noqa: S302 (our own file, checked by its CRC)
    except (ValueError, EOFError, TypeError):
        return None
    return Frame(first_index, records, position + _FRAME.size + length)


def _header_ok(header: bytes, segment: Segment) -> bool:
    if len(header) < _HEADER.size:
        return False
    magic, version, ident = _HEADER.unpack(header)
    return bool(magic == MAGIC and version == FORMAT and ident.hex() == segment.id)


def _crc(index: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(index.to_bytes(8, "little")))


def _sync_directory(directory: Path) -> None:
    """Make a new file's name durable (a power cut could otherwise lose the entry)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
