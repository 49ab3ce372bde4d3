"""The store: the only module that speaks SQL.

SQLite runs in WAL mode with ``synchronous=FULL`` so a committed batch survives a crash of
the process or the machine; PostgreSQL is reached through psycopg 3. Migrations run on open.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from inkling.errors import StoreError, UnknownMessage
from inkling.events.model import Event, EventKind, Verdict
from inkling.store.schema import events, links, messages

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    message_id: str
    workflow: str | None
    ticket: str | None
    subject: str | None
    sent_at: int
    links_total: int


class Store:
    """A database holding messages, links and events."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine = _create_engine(url)
            self._insert_event_sql = _insert_sql(self.engine, "events", _EVENT_COLUMNS)
            if migrate:
                self.migrate()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the database {_redact(url)}: {_first_line(exc)}"
            ) from exc

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()

    # -- messages -------------------------------------------------------------------------

    def register_message(self, record: MessageRecord, link_urls: Sequence[str]) -> None:
        """Store a message and its tracked links; a second message with the same
        Message-ID is refused with StoreError."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(messages).values(**_as_row(record)))
                if link_urls:
                    connection.execute(
                        insert(links),
                        [
                            {"message": record.id, "idx": i, "url": u}
                            for i, u in enumerate(link_urls)
                        ],
                    )
        except IntegrityError as exc:
            raise StoreError(f"message {record.message_id} is already registered") from exc

    def find_message(self, key: str) -> MessageRecord:
        """The message whose Message-ID (with or without <>) or Inkling id is ``key``."""
        candidates = {key, key.strip(), f"<{key.strip().strip('<>')}>"}
        query = select(messages).where(
            messages.c.message_id.in_(candidates) | (messages.c.id == key.strip())
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise UnknownMessage(f"no message {key!r}")
        return MessageRecord(**row._mapping)

    def message_links(self, message: str) -> list[str]:
        query = select(links.c.url).where(links.c.message == message).order_by(links.c.idx)
        with self.engine.connect() as connection:
            return [row.url for row in connection.execute(query)]

    # -- events ---------------------------------------------------------------------------

    def insert_events(self, batch: Iterable[Event]) -> None:
        """Write a batch of events in one transaction; returns once it is committed.
        (The same path the recorder takes, on a connection of its own.)"""
        writer = self.event_writer()
        try:
            writer.write(list(batch))
        finally:
            writer.close()

    def event_writer(self) -> EventWriter:
        """A writer for the recorder's thread: one connection kept open for its batches."""
        return EventWriter(self.engine, self._insert_event_sql)

    def events_for(self, message: str, limit: int | None = None) -> list[Event]:
        query = (
            select(events)
            .where(events.c.message == message)
            .order_by(events.c.ts, events.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_row_event(row._mapping) for row in connection.execute(query)]

    def event_counts(self, message: str) -> dict[tuple[str, str], int]:
        """Events of a message counted by (kind, verdict)."""
        query = (
            select(events.c.kind, events.c.verdict, func.count())
            .where(events.c.message == message)
            .group_by(events.c.kind, events.c.verdict)
        )
        with self.engine.connect() as connection:
            return {(k, v): n for k, v, n in connection.execute(query)}

    def count_events(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


class EventWriter:
    """Writes batches of events on one driver connection, kept open between batches.

    The recorder calls it from its own thread for every commit, so it skips what the
    engine does per transaction (checkout, events, reset) and hands the driver plain
    tuples; executemany and commit run in the driver with the GIL released. A failed batch
    rolls back and drops the connection; the next batch opens a fresh one.
    """

    def __init__(self, engine: Engine, insert_sql: str) -> None:
        self._engine = engine
        self._sql = insert_sql
        self._connection: Any = None

    def write(self, batch: Sequence[Event]) -> None:
        """Insert and commit ``batch``; raises whatever the driver raises."""
        rows = [_event_tuple(e) for e in batch]
        if not rows:
            return
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        try:
            cursor = self._connection.cursor()
            cursor.executemany(self._sql, rows)
            cursor.close()
            self._connection.commit()
        except BaseException:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):  # already broken: dropping it is all we want
                connection.invalidate()
            raise

    def close(self) -> None:
        """Give the connection back to the engine's pool."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _as_row(record: MessageRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "message_id": record.message_id,
        "workflow": record.workflow,
        "ticket": record.ticket,
        "subject": record.subject,
        "sent_at": record.sent_at,
        "links_total": record.links_total,
    }


_EVENT_COLUMNS = (
    "message",
    "kind",
    "link",
    "ts",
    "sent_at",
    "ip",
    "user_agent",
    "method",
    "headers",
    "verdict",
    "agent",
    "reasons",
)


def _insert_sql(engine: Engine, table: str, columns: Sequence[str]) -> str:
    """An INSERT statement in the driver's own placeholder style (qmark or format).
    ``table`` and ``columns`` are this module's constants, never input."""
    placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([placeholder] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def _event_tuple(e: Event) -> tuple[Any, ...]:
    """An event as a row, in the order of _EVENT_COLUMNS."""
    return (
        e.message,
        e.kind.value,
        e.link,
        e.ts,
        e.sent_at,
        e.ip,
        e.user_agent,
        e.method,
        json.dumps(e.headers, separators=(",", ":")) if e.headers else "{}",
        e.verdict.value,
        e.agent,
        json.dumps(e.reasons) if e.reasons else "[]",
    )


def _row_event(row: Any) -> Event:
    return Event(
        message=row["message"],
        kind=EventKind(row["kind"]),
        ts=row["ts"],
        method=row["method"],
        sent_at=row["sent_at"],
        link=row["link"],
        ip=row["ip"],
        user_agent=row["user_agent"],
        headers=json.loads(row["headers"]),
        verdict=Verdict(row["verdict"]),
        agent=row["agent"],
        reasons=json.loads(row["reasons"]),
    )


def _redact(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
