"""Events, their verdict history, and how far the journal has been loaded.

Two ways in. :meth:`Events.insert` is for the few events that do not come through the
journal (returned mail, the demo); it goes through SQLAlchemy. :class:`EventLoader` is the
loader's: batches of thousands of hits on one driver connection kept open, the journal's
progress written in the same transaction, and the driver handed plain tuples in the
cheapest form each backend takes (SQLite: multi-row ``INSERT``; PostgreSQL: ``COPY``).
Both skip an event whose id is already stored, so loading twice changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select

from inkling.model import (
    PLAIN,
    Event,
    EventId,
    EventKind,
    InklingId,
    Verdict,
    VerdictChange,
    agent_or_none,
)
from inkling.store.engine import Database
from inkling.store.partitions import Partitions
from inkling.store.schema import events, journal_progress, verdict_changes
from inkling.store.webhooks import enqueue_inserted, enqueue_loaded

EVENT_COLUMNS = (
    "id",
    "message",
    "kind",
    "link",
    "ts",
    "sent_at",
    "method",
    "ip",
    "network",
    "user_agent",
    "evidence",
    "details",
    "verdict",
    "agent",
    "reasons",
    "leanings",
)
_CHANGE_COLUMNS = (
    "event",
    "message",
    "previous",
    "previous_agent",
    "verdict",
    "agent",
    "reasons",
    "changed_at",
)
#: One encoder for every event: ``json.dumps`` with separators builds a new one per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class SegmentProgress:
    """A journal segment loaded up to ``position`` (bytes), whose next event is number
    ``next_index``."""

    segment: str
    position: int
    next_index: int


class Events:
    """Reads and writes events."""

    def __init__(self, database: Database, partitions: Partitions) -> None:
        self._db = database
        self._partitions = partitions

    def insert(self, batch: Iterable[Event], changes: Sequence[VerdictChange] = ()) -> None:
        """Write events (and verdict changes of earlier ones) in one transaction; an event
        whose id is stored already is skipped."""
        batch_list = list(batch)
        rows = [_row_dict(e) for e in batch_list]
        if not rows and not changes:
            return
        self._partitions.ensure(e.ts for e in batch_list)
        key = _conflict_key(self._db.dialect)
        with self._db.begin() as connection:
            if rows:
                connection.execute(
                    self._db.insert(events).on_conflict_do_nothing(index_elements=key), rows
                )
                enqueue_inserted(connection, batch_list, time.time())  # webhooks' outbox
            _apply_changes(connection, changes)

    def loader(self) -> EventLoader:
        """A writer for the journal loader's thread, with its connection kept open."""
        return EventLoader(self._db, self._partitions)

    def for_message(self, message: InklingId, limit: int | None = None) -> list[Event]:
        query = (
            select(events)
            .where(events.c.message == message)
            .order_by(events.c.ts, events.c.id)
            .limit(limit)
        )
        with self._db.connect() as connection:
            return [_event(row._mapping) for row in connection.execute(query)]

    def counts(self, message: InklingId) -> dict[tuple[str, str], int]:
        """A copy's events counted by (kind, verdict)."""
        query = (
            select(events.c.kind, events.c.verdict, func.count())
            .where(events.c.message == message)
            .group_by(events.c.kind, events.c.verdict)
        )
        with self._db.connect() as connection:
            return {(k, v): n for k, v, n in connection.execute(query)}

    def changes(self, message: InklingId) -> list[VerdictChange]:
        """The verdict history of a copy's events, oldest change first."""
        query = (
            select(verdict_changes)
            .where(verdict_changes.c.message == message)
            .order_by(verdict_changes.c.changed_at, verdict_changes.c.id)
        )
        with self._db.connect() as connection:
            return [_change(row._mapping) for row in connection.execute(query)]

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers now."""
        self._db.ping()

    def count(self) -> int:
        with self._db.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(events)).scalar_one())

    def progress(self) -> dict[str, SegmentProgress]:
        """How far each journal segment has been loaded, by segment id."""
        with self._db.connect() as connection:
            rows = connection.execute(select(journal_progress))
            return {
                row.segment: SegmentProgress(row.segment, row.position, row.next_index)
                for row in rows
            }

    def forget_progress(self, segments: Sequence[str]) -> None:
        """Drop the progress of segments that no longer exist."""
        if not segments:
            return
        query = journal_progress.delete().where(journal_progress.c.segment.in_(segments))
        with self._db.begin() as connection:
            connection.execute(query)


class EventLoader:
    """Loads batches of journal events on one driver connection, kept open between batches.

    A failed batch rolls back and drops the connection (it may be broken); the next batch
    opens a fresh one. Errors come out as StoreError subclasses.
    """

    def __init__(self, database: Database, partitions: Partitions) -> None:
        self._db = database
        self._partitions = partitions
        self._connection: Any = None
        self._postgres = database.dialect == "postgresql"

    def load(
        self,
        batch: Sequence[Event],
        changes: Sequence[VerdictChange],
        progress: Sequence[SegmentProgress],
    ) -> None:
        """Insert ``batch``, apply ``changes``, record ``progress``: one transaction."""
        self._partitions.ensure(e.ts for e in batch)
        with self._db.translated():
            try:
                self._write_on_connection(batch, changes, progress)
            except BaseException as exc:
                if not _no_partition(exc):
                    raise
                self._partitions.forget()  # dropped by another node since this one looked
                self._partitions.ensure(e.ts for e in batch)
                self._write_on_connection(batch, changes, progress)

    def _write_on_connection(
        self,
        batch: Sequence[Event],
        changes: Sequence[VerdictChange],
        progress: Sequence[SegmentProgress],
    ) -> None:
        if self._connection is None:
            self._connection = self._db.raw_connection()
        try:
            self._write(batch, changes, progress)
        except BaseException as exc:
            self._drop()
            if not _is_duplicate(exc):
                raise
        else:
            return
        # A batch with an event stored already (the same journal loaded into this database
        # by an older copy of the data dir, say): again, skipping those, the slow way.
        self._connection = self._db.raw_connection()
        try:
            self._write(batch, changes, progress, ignoring=True)
        except BaseException:
            self._drop()
            raise

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def _write(
        self,
        batch: Sequence[Event],
        changes: Sequence[VerdictChange],
        progress: Sequence[SegmentProgress],
        *,
        ignoring: bool = False,
    ) -> None:
        cursor = self._connection.cursor()
        if batch:
            if self._postgres and not ignoring:
                with cursor.copy(_COPY_EVENTS) as copy:
                    for event in batch:
                        copy.write_row(_row_tuple(event))
            elif self._postgres:
                cursor.executemany(_pg_insert_ignoring(), [_row_tuple(e) for e in batch])
            else:
                _sqlite_insert(cursor, batch)
            enqueue_loaded(cursor, batch, time.time(), postgres=self._postgres, fresh=not ignoring)
        mark = "%s" if self._postgres else "?"
        if changes:
            cursor.executemany(_update_sql(mark), [_update_tuple(c) for c in changes])
            cursor.executemany(_change_sql(mark), [_change_tuple(c) for c in changes])
        if progress:
            cursor.executemany(_progress_sql(mark), [_progress_tuple(p) for p in progress])
        cursor.close()
        self._connection.commit()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken: dropping it is all we want
                connection.invalidate()


# -- SQLite's fast path -----------------------------------------------------------------
#
# CPython's sqlite3 binds None slowly (it looks for an adapter and a ``__conform__``
# method, failing with an exception each time): about 0.5 us a parameter, more than the
# insert itself. So NULLs are sent as sentinels the statement turns back into NULL
# (``NULLIF``): "\0" for text (never in stored text: PostgreSQL cannot hold it, so it is
# removed) and -1 for link and sent_at (never negative). Rows go in many to a statement,
# so the driver steps (and releases the GIL) once per chunk, not once per row.

_SQLITE_MAX_VARIABLES = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
_SQLITE_ROWS = _SQLITE_MAX_VARIABLES // len(EVENT_COLUMNS)
_NO_TEXT = "\x00"
_SQLITE_PLACEHOLDERS = {
    "link": "NULLIF(?, -1)",
    "sent_at": "NULLIF(?, -1)",
    "ip": "NULLIF(?, char(0))",
    "network": "NULLIF(?, char(0))",
    "user_agent": "NULLIF(?, char(0))",
    "agent": "NULLIF(?, char(0))",
}
_SQLITE_ROW = "(" + ", ".join(_SQLITE_PLACEHOLDERS.get(c, "?") for c in EVENT_COLUMNS) + ")"


@lru_cache(maxsize=64)
def _sqlite_insert_sql(rows: int) -> str:
    values = ", ".join([_SQLITE_ROW] * rows)
    return (
        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES {values} "
        "ON CONFLICT (id) DO NOTHING"
    )


def _sqlite_insert(cursor: Any, batch: Sequence[Event]) -> None:
    for start in range(0, len(batch), _SQLITE_ROWS):
        chunk = batch[start : start + _SQLITE_ROWS]
        flat: list[Any] = []
        extend = flat.extend
        for e in chunk:
            extend(_sqlite_row(e))
        cursor.execute(_sqlite_insert_sql(len(chunk)), flat)


def _sqlite_row(e: Event) -> tuple[Any, ...]:
    return (
        e.id,
        e.message,
        PLAIN[e.kind],
        -1 if e.link is None else e.link,
        e.ts,
        -1 if e.sent_at is None else e.sent_at,
        e.method,
        _NO_TEXT if e.ip is None else e.ip,
        _NO_TEXT if e.network is None else e.network,
        _NO_TEXT if e.user_agent is None else _no_nul(e.user_agent),
        _json(e.evidence),
        _json(e.details),
        PLAIN[e.verdict],
        _NO_TEXT if e.agent is None else PLAIN[e.agent],
        _json_list(tuple(e.reasons)),
        _json_list(tuple(e.leanings)),
    )


# -- PostgreSQL's and the general path --------------------------------------------------

_COPY_EVENTS = f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"


@lru_cache(maxsize=1)
def _pg_insert_ignoring() -> str:
    marks = ", ".join(["%s"] * len(EVENT_COLUMNS))
    return (
        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks}) "
        "ON CONFLICT (id, ts) DO NOTHING"
    )


def _row_tuple(e: Event) -> tuple[Any, ...]:
    """An event as a row, in the order of EVENT_COLUMNS."""
    return (
        e.id,
        e.message,
        PLAIN[e.kind],
        e.link,
        e.ts,
        e.sent_at,
        e.method,
        e.ip,
        e.network,
        None if e.user_agent is None else _no_nul(e.user_agent),
        _json(e.evidence),
        _json(e.details),
        PLAIN[e.verdict],
        None if e.agent is None else PLAIN[e.agent],
        _json_list(tuple(e.reasons)),
        _json_list(tuple(e.leanings)),
    )


def _row_dict(e: Event) -> dict[str, Any]:
    return dict(zip(EVENT_COLUMNS, _row_tuple(e), strict=True))


def _json(values: dict[str, str]) -> str:
    """``values`` as compact JSON. Cached: hits carry the same few sets of headers again
    and again, and hashing them costs a tenth of encoding them."""
    if not values:
        return "{}"
    return _json_items(tuple(values.items()))


@lru_cache(maxsize=8192)
def _json_items(items: tuple[tuple[str, str], ...]) -> str:
    return _no_nul(_COMPACT_JSON(dict(items)))


@lru_cache(maxsize=8192)
def _json_list(texts: tuple[str, ...]) -> str:
    """Reasons and leanings as JSON (cached: a verdict's reasons are shared by all the hits
    with the same evidence)."""
    return json.dumps(list(texts)) if texts else "[]"


def _no_nul(text: str) -> str:
    """``text`` without NUL, which PostgreSQL's text cannot hold (and SQLite's path uses
    as the mark of NULL)."""
    return text.replace("\x00", "") if "\x00" in text else text


def _apply_changes(connection: Any, changes: Sequence[VerdictChange]) -> None:
    if not changes:
        return
    for change in changes:
        connection.execute(
            events.update()
            .where(events.c.id == change.event)
            .values(
                verdict=change.verdict.value,
                agent=None if change.agent is None else change.agent.value,
                reasons=json.dumps(change.reasons),
                leanings=json.dumps(change.leanings),
            )
        )
    connection.execute(
        verdict_changes.insert(),
        [dict(zip(_CHANGE_COLUMNS, _change_tuple(c), strict=True)) for c in changes],
    )


def _update_sql(mark: str) -> str:
    return (
        f"UPDATE events SET verdict = {mark}, agent = {mark}, reasons = {mark}, "
        f"leanings = {mark} WHERE id = {mark}"
    )


def _update_tuple(c: VerdictChange) -> tuple[Any, ...]:
    agent = None if c.agent is None else c.agent.value
    return (c.verdict.value, agent, json.dumps(c.reasons), json.dumps(c.leanings), c.event)


def _change_sql(mark: str) -> str:
    marks = ", ".join([mark] * len(_CHANGE_COLUMNS))
    return f"INSERT INTO verdict_changes ({', '.join(_CHANGE_COLUMNS)}) VALUES ({marks})"


def _change_tuple(c: VerdictChange) -> tuple[Any, ...]:
    return (
        c.event,
        c.message,
        c.previous.value,
        None if c.previous_agent is None else c.previous_agent.value,
        c.verdict.value,
        None if c.agent is None else c.agent.value,
        json.dumps(c.reasons),
        c.changed_at,
    )


def _progress_sql(mark: str) -> str:
    return (
        f"INSERT INTO journal_progress (segment, position, next_index, updated_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}) ON CONFLICT (segment) DO UPDATE SET "
        "position = excluded.position, next_index = excluded.next_index, "
        "updated_at = excluded.updated_at"
    )


def _progress_tuple(p: SegmentProgress) -> tuple[Any, ...]:
    return (p.segment, p.position, p.next_index, time.time())


def _is_duplicate(exc: BaseException) -> bool:
    """Whether a driver error is a unique-key violation (an event id stored already)."""
    if _no_partition(exc):
        return False
    return any(cls.__name__ in ("IntegrityError", "UniqueViolation") for cls in type(exc).__mro__)


def _no_partition(exc: BaseException) -> bool:
    """Whether a driver error says no partition of ``events`` holds a row's ``ts``."""
    found: BaseException | None = exc
    while found is not None:  # the driver's error, or the StoreError made of it
        if getattr(found, "sqlstate", None) == "23514" and "partition" in str(found):
            return True
        found = found.__cause__ or getattr(found, "orig", None)
    return False


def _conflict_key(dialect: str) -> list[str]:
    """The unique key an event id conflicts on: on PostgreSQL a partitioned table's keys
    hold its partition key (store/partitions.py), and an event's time is as fixed as its
    id."""
    return ["id", "ts"] if dialect == "postgresql" else ["id"]


def _event(row: Any) -> Event:
    return Event(
        id=EventId(row["id"]),
        message=InklingId(row["message"]),
        kind=EventKind(row["kind"]),
        ts=row["ts"],
        method=row["method"],
        sent_at=row["sent_at"],
        link=row["link"],
        ip=row["ip"],
        network=row["network"],
        user_agent=row["user_agent"],
        evidence=json.loads(row["evidence"]),
        details=json.loads(row["details"]),
        verdict=Verdict(row["verdict"]),
        agent=agent_or_none(row["agent"]),
        reasons=json.loads(row["reasons"]),
        leanings=json.loads(row["leanings"]),
    )


def _change(row: Any) -> VerdictChange:
    return VerdictChange(
        event=EventId(row["event"]),
        message=InklingId(row["message"]),
        previous=Verdict(row["previous"]),
        previous_agent=agent_or_none(row["previous_agent"]),
        verdict=Verdict(row["verdict"]),
        agent=agent_or_none(row["agent"]),
        reasons=json.loads(row["reasons"]),
        changed_at=row["changed_at"],
    )
