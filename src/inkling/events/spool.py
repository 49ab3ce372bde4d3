"""A disk spool for events the database could not take.

When a batch cannot be committed (the database is down or restarting), the recorder
appends it here and fsyncs before answering, so an acknowledged hit is never lost. The
spool is drained into the database as soon as it answers again, and at start-up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from inkling.events.model import Event, EventKind, Verdict

SPOOL_FILE = "spool.jsonl"


class Spool:
    def __init__(self, directory: Path) -> None:
        self.path = directory / SPOOL_FILE
        self._draining = self.path.with_suffix(".draining")

    def append(self, batch: Sequence[Event]) -> None:
        """Append a batch and fsync it: returns only once the batch is on disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(asdict(e), separators=(",", ":")) + "\n" for e in batch)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, lines.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def pending(self) -> bool:
        return self.path.exists() or self._draining.exists()

    def take(self) -> list[Event]:
        """Move the spool aside and return its events; call :meth:`done` once stored.

        A line torn by a crash mid-write is skipped: its batch was never acknowledged.
        """
        if not self._draining.exists():
            if not self.path.exists():
                return []
            self.path.replace(self._draining)
        events = []
        for line in self._draining.read_text().splitlines():
            try:
                events.append(_event_from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
        return events

    def done(self) -> None:
        self._draining.unlink(missing_ok=True)


def _event_from_json(data: dict[str, object]) -> Event:
    event = Event(**data)  # type: ignore[arg-type]
    event.kind = EventKind(event.kind)
    event.verdict = Verdict(event.verdict)
    return event
