"""Retention: events older than a cutoff go, their counts stay.

A purge works in batches (``BATCH`` events a transaction), so it never holds a long
lock on a busy database and a crash loses no count: each batch's counts are added to
``event_tallies`` (by message, UTC day, kind, verdict and agent) in the same transaction
that deletes its events, their verdict history and any webhook delivery still queued for
them. On PostgreSQL a month wholly older than the cutoff goes first and at once: its
counts are summed by the database, its history and queued deliveries deleted and its
partition dropped, all in one transaction (store/partitions.py).

Messages and links stay: an old link still redirects (the tracker needs no database for
that), and a hit on it is recorded as any new hit is.

The same counting serves an erase (``store/subjects.py``), with the message left out:
counts nobody can be linked to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text

from inkling.model import InklingId
from inkling.store.engine import Database
from inkling.store.partitions import PARTITION_LOCK, Month, Partitions
from inkling.store.schema import event_tallies, events, verdict_changes, webhook_outbox

#: Events deleted a transaction: a batch takes well under a second on either backend.
BATCH = 5000
SECONDS_PER_DAY = 86400

#: The events' columns a tally is made of.
TALLIED = (events.c.message, events.c.ts, events.c.kind, events.c.verdict, events.c.agent)


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge removed (``tallies``: count rows written for them)."""

    cutoff: float
    events: int = 0
    verdict_changes: int = 0
    webhook_deliveries: int = 0
    tallies: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "events": self.events,
            "verdict_changes": self.verdict_changes,
            "webhook_deliveries": self.webhook_deliveries,
            "tallies": self.tallies,
        }


class Retention:
    """Purges expired events and reads the counts they left."""

    def __init__(self, database: Database, partitions: Partitions) -> None:
        self._db = database
        self._partitions = partitions

    def expiring(self, cutoff: float) -> int:
        """How many events are older than ``cutoff`` (Unix seconds): a purge's total."""
        query = select(func.count()).select_from(events).where(events.c.ts < cutoff)
        with self._db.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def purge(
        self,
        cutoff: float,
        *,
        batch: int = BATCH,
        progress: Callable[[int], None] | None = None,
        stopped: Callable[[], bool] = lambda: False,
    ) -> Purged:
        """Delete the events older than ``cutoff``, ``batch`` a transaction, keeping their
        counts; ``progress`` is told each batch's size. ``stopped`` is asked between
        batches (a server shutting down): what is purged by then stays purged."""
        total = Purged(cutoff)
        for month in self._partitions.months():
            if month.end > cutoff or stopped():
                break
            with self._db.begin() as connection:
                done = _drop_month(connection, month, cutoff)
            self._partitions.forget()
            total = _add(total, done)
            if progress is not None and done.events:
                progress(done.events)
        while not stopped():
            with self._db.begin() as connection:
                done = _purge_batch(connection, cutoff, batch)
            total = _add(total, done)
            if progress is not None and done.events:
                progress(done.events)
            if done.events < batch:
                break
        return total

    def tallies(self, message: InklingId) -> dict[tuple[str, str], int]:
        """The counts a message's purged events left, by (kind, verdict)."""
        c = event_tallies.c
        query = (
            select(c.kind, c.verdict, func.sum(c.count))
            .where(c.message == message)
            .group_by(c.kind, c.verdict)
        )
        with self._db.connect() as connection:
            return {(k, v): int(n) for k, v, n in connection.execute(query)}


def _purge_batch(connection: Connection, cutoff: float, size: int) -> Purged:
    # Locked as read (PostgreSQL; SQLite has one writer at a time): two nodes purging at
    # once take different batches, and no event is counted twice.
    query = select(events.c.id, *TALLIED).where(events.c.ts < cutoff).limit(size)
    found = connection.execute(query.with_for_update(skip_locked=True)).all()
    if not found:
        return Purged(cutoff)
    ids = [row.id for row in found]
    tallies = tally(connection, found, keep_message=True)
    changes = connection.execute(delete(verdict_changes).where(verdict_changes.c.event.in_(ids)))
    queued = connection.execute(delete(webhook_outbox).where(webhook_outbox.c.event.in_(ids)))
    connection.execute(delete(events).where(events.c.id.in_(ids)))
    return Purged(cutoff, len(ids), changes.rowcount, queued.rowcount, tallies)


def _drop_month(connection: Connection, month: Month, cutoff: float) -> Purged:
    """Purge a whole month's partition: its counts, its history, its queued deliveries,
    then the partition itself."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), PARTITION_LOCK)
    table = month.name
    if connection.exec_driver_sql(f"SELECT to_regclass('{table}')").scalar_one() is None:
        return Purged(cutoff)  # dropped by another node's purge meanwhile
    connection.exec_driver_sql(f"LOCK TABLE {table} IN SHARE MODE")  # no insert meanwhile
    found = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    tallies = connection.exec_driver_sql(
        "INSERT INTO event_tallies (message, day, kind, verdict, agent, count) "
        f"SELECT message, floor(ts / {SECONDS_PER_DAY})::int, kind, verdict, agent, count(*) "
        f"FROM {table} GROUP BY 1, 2, 3, 4, 5"
    )
    changes = connection.exec_driver_sql(
        f"DELETE FROM verdict_changes WHERE event IN (SELECT id FROM {table})"
    )
    queued = connection.exec_driver_sql(
        f"DELETE FROM webhook_outbox WHERE event IN (SELECT id FROM {table})"
    )
    connection.exec_driver_sql(f"DROP TABLE {table}")
    return Purged(cutoff, int(found), changes.rowcount, queued.rowcount, tallies.rowcount)


def tally(connection: Connection, rows: Iterable[Any], *, keep_message: bool) -> int:
    """Add the counts of events ``rows`` (with the ``TALLIED`` columns) to
    ``event_tallies``, by message (or none: anonymous), UTC day, kind, verdict and agent;
    the tally rows written."""
    counts: Counter[tuple[str | None, int, str, str, str | None]] = Counter()
    for row in rows:
        message = row.message if keep_message else None
        counts[(message, int(row.ts // SECONDS_PER_DAY), row.kind, row.verdict, row.agent)] += 1
    if not counts:
        return 0
    connection.execute(insert(event_tallies), _tally_rows(counts))
    return len(counts)


def _tally_rows(counts: Counter[tuple[str | None, int, str, str, str | None]]) -> list[Any]:
    names = ("message", "day", "kind", "verdict", "agent")
    return [dict(zip(names, key, strict=True), count=n) for key, n in counts.items()]


def _add(total: Purged, more: Purged) -> Purged:
    return Purged(
        total.cutoff,
        total.events + more.events,
        total.verdict_changes + more.verdict_changes,
        total.webhook_deliveries + more.webhook_deliveries,
        total.tallies + more.tallies,
    )
