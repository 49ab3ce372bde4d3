"""Leases: work that must run on one node at a time (the webhook dispatcher, the
``recommendation.due`` announcer, the daily purge, the IMAP poller) is done by whichever
node holds its lease.

A lease is a row (name, holder, expires_at). Taking it is one statement that succeeds only
if the row is free, expired or already the caller's, so two nodes can never both hold it:
the database decides, on SQLite and on PostgreSQL alike. A holder renews well before its
lease runs out; one that dies stops renewing, and another node takes the lease once it has
expired.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from inkling.store.engine import Database
from inkling.store.schema import leases


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    expires_at: float


class Leases:
    def __init__(self, database: Database) -> None:
        self._database = database

    def take(self, name: str, holder: str, seconds: float, now: float) -> bool:
        """Hold ``name`` until ``now + seconds`` if nobody else holds it at ``now``
        (taking a free or expired lease, or renewing one's own); whether ``holder`` holds
        it now."""
        statement = self._database.insert(leases).values(
            name=name, holder=holder, expires_at=now + seconds
        )
        statement = statement.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": holder, "expires_at": now + seconds},
            where=(leases.c.holder == holder) | (leases.c.expires_at < now),
        )
        with self._database.begin() as connection:  # a row back: inserted or updated
            return connection.execute(statement.returning(leases.c.name)).first() is not None

    def release(self, name: str, holder: str) -> None:
        """Give ``name`` up at once (a node stopping cleanly), if ``holder`` holds it."""
        with self._database.begin() as connection:
            connection.execute(
                delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )

    def all(self) -> list[Lease]:
        """Every lease, held or expired, by name (for ``inkling status``)."""
        with self._database.connect() as connection:
            rows = connection.execute(select(leases).order_by(leases.c.name)).all()
        return [Lease(row.name, row.holder, row.expires_at) for row in rows]
