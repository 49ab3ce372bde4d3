"""The journal's state as an operator sees it from the command line (``inkling status``),
with or without a server running on it."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

from inkling.errors import StoreError
from inkling.events.journal import LOCK_FILE, read_frames, segments
from inkling.store import Events, SegmentProgress
from inkling.times import iso


def journal_status(directory: Path, events: Events) -> dict[str, Any]:
    """Segments, hits not yet loaded, the oldest of them (when, and how many seconds
    ago), whether a server holds the journal, and whether the database answers."""
    progress: dict[str, SegmentProgress] = {}
    database: dict[str, Any] = {"reachable": True, "error": None}
    try:
        progress = events.progress()
    except StoreError as exc:
        database = {"reachable": False, "error": str(exc)}
    found = segments(directory)
    backlog_events = backlog_bytes = 0
    oldest: float | None = None
    for segment in found:
        start = progress.get(segment.id)
        for frame in read_frames(segment, start.position if start else 0, max_records=1 << 62):
            backlog_events += len(frame.records)
            if oldest is None:
                oldest = float(frame.records[0][2])
        size = segment.path.stat().st_size if segment.path.exists() else 0
        backlog_bytes += max(0, size - (start.position if start else 16))
    return {
        "database": database,
        "journal": {
            "directory": str(directory),
            "segments": len(found),
            "backlog_events": backlog_events,
            "backlog_bytes": backlog_bytes,
            "oldest": None if oldest is None else iso(oldest),
            "oldest_age_s": None if oldest is None else round(time.time() - oldest, 3),
            "in_use": _in_use(directory),
        },
    }


def _in_use(directory: Path) -> bool:
    """Whether a running server holds the journal's lock."""
    try:
        fd = os.open(directory / LOCK_FILE, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
