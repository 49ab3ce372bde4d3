"""Opt-outs: the addresses and domains that are never tracked again.

A row is found by its digest (HMAC-SHA256 of the lowercase address, or of ``@domain``,
under the data dir's privacy key; see ``privacy/optout.py``), so an erase can drop the
address and keep the person untracked. The digests come in from the caller: the store
never sees the key.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select

from inkling.privacy.optout import OptOutKey, target_of
from inkling.store.engine import Database
from inkling.store.schema import optouts


@dataclass(frozen=True, slots=True)
class OptOut:
    digest: str
    address: str | None  # None once erased
    scope: str  # "address" or "domain"
    source: str
    created_at: float


class OptOuts:
    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, digest: str, address: str, scope: str, source: str) -> bool:
        """Record an opt-out; False if it was already there (kept as it was)."""
        statement = (
            self._database.insert(optouts)
            .values(
                digest=digest,
                address=address,
                scope=scope,
                source=source,
                created_at=time.time(),
            )
            .on_conflict_do_nothing(index_elements=["digest"])
            .returning(optouts.c.digest)  # psycopg counts -1 rows for a skipped insert
        )
        with self._database.begin() as connection:
            return connection.execute(statement).first() is not None

    def remove(self, digest: str) -> bool:
        with self._database.begin() as connection:
            return bool(
                connection.execute(delete(optouts).where(optouts.c.digest == digest)).rowcount
            )

    def any_of(self, digests: Iterable[str]) -> OptOut | None:
        """The first opt-out among ``digests`` (an address's own, then its domain's)."""
        wanted = list(digests)
        if not wanted:
            return None
        with self._database.connect() as connection:
            rows = connection.execute(select(optouts).where(optouts.c.digest.in_(wanted))).all()
        found = {row.digest: OptOut(*row) for row in rows}
        return next((found[d] for d in wanted if d in found), None)

    def all(self) -> list[OptOut]:
        with self._database.connect() as connection:
            rows = connection.execute(select(optouts).order_by(optouts.c.created_at)).all()
        return [OptOut(*row) for row in rows]


class OptOutBook:
    """Opt-outs by address or domain, as people and operators name them (the digests are
    made here, with the data dir's privacy key)."""

    def __init__(self, table: OptOuts, key: OptOutKey) -> None:
        self._table = table
        self._key = key

    @property
    def key(self) -> OptOutKey:
        """The privacy key the digests are made with (the notice signs its form with it)."""
        return self._key

    def add(self, target: str, *, source: str) -> tuple[str, bool]:
        """Opt ``target`` (an address or ``@domain``) out; the target as stored and
        whether it is new. Raises ValueError in one line for a target that is neither."""
        stored, scope = target_of(target)
        return stored, self._table.add(self._key.digest(stored), stored, scope, source)

    def remove(self, target: str) -> tuple[str, bool]:
        stored, _ = target_of(target)
        return stored, self._table.remove(self._key.digest(stored))

    def opted_out(self, addresses: Sequence[str]) -> bool:
        """Whether any of ``addresses``, or its domain, opted out."""
        return self.first(addresses) is not None

    def first(self, addresses: Sequence[str]) -> OptOut | None:
        return self._table.any_of(self._key.digests_for(addresses))

    def all(self) -> list[OptOut]:
        return self._table.all()
