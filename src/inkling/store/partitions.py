"""The events table by month, on PostgreSQL.

On PostgreSQL ``events`` is partitioned by range of ``ts`` (declarative partitioning,
migration 0013), one partition a UTC month named ``events_YYYY_MM``, so that retention
drops whole months instead of deleting row by row, and a query bounded in time reads only
its months. There is no default partition: every path that inserts events first makes
sure the months of its batch exist (:meth:`Partitions.ensure`), and the server creates
the coming months ahead (:meth:`Partitions.ahead`), so a hit at midnight on the first of
a month never waits on DDL. Creating is idempotent and serialized across nodes by an
advisory lock; each process remembers the months it has seen, so a batch of this month's
hits costs a set look-up, not a query.

SQLite keeps one table: every method here is a no-op on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from inkling.store.engine import Database

#: Months created ahead of the current one.
MONTHS_AHEAD = 2
#: Each month's autovacuum thresholds, as fractions of the month rather than PostgreSQL's
#: defaults (20 % of a table for vacuum, 10 % for analyze): a month takes inserts all
#: month, and its visibility map (index-only scans) and statistics should not wait for
#: millions of them. See docs/operations.md, "PostgreSQL settings that matter".
AUTOVACUUM = (
    "autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01, "
    "autovacuum_vacuum_insert_scale_factor = 0.05"
)
#: The advisory lock under which partitions are created (not the migrations' lock: a node
#: may create a month while another migrates nothing).
PARTITION_LOCK = {"key": int.from_bytes(b"inkpart", "big")}


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A UTC calendar month."""

    year: int
    month: int

    @classmethod
    def of(cls, ts: float) -> Month:
        moment = datetime.fromtimestamp(ts, UTC)
        return cls(moment.year, moment.month)

    @property
    def name(self) -> str:
        return f"events_{self.year:04d}_{self.month:02d}"

    @property
    def start(self) -> float:
        return datetime(self.year, self.month, 1, tzinfo=UTC).timestamp()

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def end(self) -> float:
        return self.next().start

    def create_sql(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} PARTITION OF events "
            f"FOR VALUES FROM ({self.start!r}) TO ({self.end!r}) WITH ({AUTOVACUUM})"
        )


def coming(now: float) -> list[Month]:
    """The month of ``now`` and the ``MONTHS_AHEAD`` after it."""
    months = [Month.of(now)]
    for _ in range(MONTHS_AHEAD):
        months.append(months[-1].next())
    return months


def parse_name(name: str) -> Month | None:
    """The month a partition's name stands for, or None for another table's name."""
    parts = name.split("_")
    if len(parts) != 3 or parts[0] != "events" or not (parts[1] + parts[2]).isdigit():
        return None
    return Month(int(parts[1]), int(parts[2]))


_LIST = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'events'::regclass"
)


class Partitions:
    """Creates and lists the monthly partitions of ``events`` (PostgreSQL only)."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._enabled = database.dialect == "postgresql"
        self._known: set[Month] = set()
        self._lock = threading.Lock()

    def ensure(self, timestamps: Iterable[float]) -> None:
        """Make sure a partition holds each of ``timestamps``, creating missing months."""
        if not self._enabled:
            return
        times = list(timestamps)
        if not times:
            return
        first = Month.of(min(times))
        if first in self._known and first == Month.of(max(times)):
            return  # the usual batch, this month's hits: no month per event to work out
        wanted = {Month.of(ts) for ts in times} - self._known
        if wanted:
            self._create(wanted)

    def ahead(self, now: float) -> None:
        """Create this month's partition and the next ``MONTHS_AHEAD``, if missing."""
        self.ensure(m.start for m in coming(now))

    def forget(self) -> None:
        """Forget the months seen: after an insert found no partition for its row (another
        node dropped it, say), the next :meth:`ensure` looks again."""
        with self._lock:
            self._known.clear()

    def months(self) -> list[Month]:
        """The months that have a partition, oldest first ([] on SQLite)."""
        if not self._enabled:
            return []
        with self._db.connect() as connection:
            return sorted(m for m in map(parse_name, _names(connection)) if m is not None)

    def _create(self, wanted: set[Month]) -> None:
        with self._lock:
            with self._db.begin() as connection:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), PARTITION_LOCK)
                existing = {m for m in map(parse_name, _names(connection)) if m is not None}
                for month in sorted(wanted - existing):
                    connection.exec_driver_sql(month.create_sql())
            self._known |= existing | wanted  # committed


def _names(connection: Connection) -> list[str]:
    return [str(name) for (name,) in connection.exec_driver_sql(_LIST)]
