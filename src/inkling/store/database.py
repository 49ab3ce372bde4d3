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

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from inkling.errors import AmbiguousMessage, StoreError, UnknownMessage
from inkling.events.model import Event, EventKind, Verdict, VerdictChange
from inkling.store.schema import events, links, messages, verdict_changes

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
    #: The copy's recipient(s): '' for a message registered without one, one address for
    #: the relay's per-recipient copies, "a@x, b@y" for a copy shared by several.
    recipient: str = ""
    #: Why the copy went out untracked (e.g. "DKIM-signed and no key to re-sign"), or None.
    untracked: str | None = None
    #: When the relay's upstream accepted the copy (Unix seconds), or None.
    relayed_at: int | None = None


class Store:
    """A database holding messages, links and events."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine = _create_engine(url)
            self._event_sql = _EventSQL.for_engine(self.engine)
            if migrate:
                self.migrate()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the database {_redact(url)}: {_first_line(exc)}"
            ) from exc

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        from alembic import command  # here: loading Alembic costs every command 0.3 s
        from alembic.config import Config

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
        Message-ID and recipient is refused with StoreError."""
        self.register_messages([(record, link_urls)])

    def register_messages(self, copies: Sequence[tuple[MessageRecord, Sequence[str]]]) -> None:
        """Store several copies and their links in one transaction: all or none."""
        try:
            with self.engine.begin() as connection:
                for record, link_urls in copies:
                    self._insert_message(connection, record, link_urls)
        except IntegrityError as exc:
            names = ", ".join(_copy_name(record) for record, _ in copies)
            raise StoreError(f"message {names} is already registered") from exc

    @staticmethod
    def _insert_message(connection: Any, record: MessageRecord, urls: Sequence[str]) -> None:
        connection.execute(insert(messages).values(**_as_row(record)))
        if urls:
            connection.execute(
                insert(links),
                [{"message": record.id, "idx": i, "url": u} for i, u in enumerate(urls)],
            )

    def mark_relayed(self, ids: Sequence[str], relayed_at: int) -> None:
        """Record that the upstream accepted these copies."""
        if not ids:
            return
        query = update(messages).where(messages.c.id.in_(ids)).values(relayed_at=relayed_at)
        with self.engine.begin() as connection:
            connection.execute(query)

    def forget_messages(self, ids: Sequence[str]) -> None:
        """Remove copies that were registered but never sent (their links go with them)."""
        if not ids:
            return
        with self.engine.begin() as connection:
            connection.execute(delete(links).where(links.c.message.in_(ids)))
            connection.execute(delete(messages).where(messages.c.id.in_(ids)))

    def find_message(self, key: str, *, recipient: str | None = None) -> MessageRecord:
        """The message whose Inkling id or Message-ID (with or without <>) is ``key``.

        A Message-ID the relay sent as several copies (one per recipient) names no single
        message: without ``recipient`` that raises AmbiguousMessage, listing the copies,
        rather than quietly answering for one of them.
        """
        by_id = self._messages(messages.c.id == key.strip())
        if by_id:
            return by_id[0]
        copies = self.find_messages(key)
        if recipient is not None:
            copies = [c for c in copies if c.recipient.lower() == recipient.strip().lower()]
        if not copies:
            raise UnknownMessage(f"no message {key!r}")
        if len(copies) > 1:
            listed = ", ".join(f"{c.id} to {c.recipient or '(no recipient)'}" for c in copies)
            raise AmbiguousMessage(
                f"{key.strip()} went out as {len(copies)} copies, one per recipient: {listed}; "
                "name one by its Inkling id"
            )
        return copies[0]

    def find_messages(self, message_id: str) -> list[MessageRecord]:
        """Every copy registered under a Message-ID (with or without <>), oldest first."""
        candidates = {message_id, message_id.strip(), f"<{message_id.strip().strip('<>')}>"}
        return self._messages(messages.c.message_id.in_(candidates))

    def _messages(self, condition: Any) -> list[MessageRecord]:
        query = select(messages).where(condition).order_by(messages.c.sent_at, messages.c.id)
        with self.engine.connect() as connection:
            return [MessageRecord(**row._mapping) for row in connection.execute(query)]

    def message_links(self, message: str) -> list[str]:
        query = select(links.c.url).where(links.c.message == message).order_by(links.c.idx)
        with self.engine.connect() as connection:
            return [row.url for row in connection.execute(query)]

    # -- events ---------------------------------------------------------------------------

    def insert_events(self, batch: Iterable[Event], changes: Sequence[VerdictChange] = ()) -> None:
        """Write a batch of events (and verdict changes of earlier ones) in one
        transaction; returns once it is committed. (The same path the recorder takes, on a
        connection of its own.)"""
        writer = self.event_writer()
        try:
            writer.write(list(batch), changes)
        finally:
            writer.close()

    def event_writer(self) -> EventWriter:
        """A writer for the recorder's thread: one connection kept open for its batches."""
        return EventWriter(self.engine, self._event_sql)

    def verdict_changes(self, message: str) -> list[VerdictChange]:
        """The verdict history of a message's events, oldest change first."""
        query = (
            select(verdict_changes)
            .where(verdict_changes.c.message == message)
            .order_by(verdict_changes.c.changed_at, verdict_changes.c.id)
        )
        with self.engine.connect() as connection:
            return [_row_change(row._mapping) for row in connection.execute(query)]

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

    def __init__(self, engine: Engine, sql: _EventSQL) -> None:
        self._engine = engine
        self._sql = sql
        self._connection: Any = None

    def write(self, batch: Sequence[Event], changes: Sequence[VerdictChange] = ()) -> None:
        """Insert ``batch``, apply ``changes`` to earlier events and keep them as history,
        and commit; raises whatever the driver raises."""
        rows = [_event_tuple(e) for e in batch]
        if not rows and not changes:
            return
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        try:
            cursor = self._connection.cursor()
            if rows and self._sql.copy_events:
                with cursor.copy(self._sql.copy_events) as copy:
                    for row in rows:
                        copy.write_row(row)
            elif rows:
                cursor.executemany(self._sql.insert_event, rows)
            if changes:
                cursor.executemany(self._sql.update_verdict, [_update_tuple(c) for c in changes])
                cursor.executemany(self._sql.insert_change, [_change_tuple(c) for c in changes])
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
        "recipient": record.recipient,
        "untracked": record.untracked,
        "relayed_at": record.relayed_at,
    }


def _copy_name(record: MessageRecord) -> str:
    return f"{record.message_id} to {record.recipient}" if record.recipient else record.message_id


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


_CHANGE_COLUMNS = ("message", "event_ts", "kind", "verdict", "agent", "reasons", "changed_at")


@dataclass(frozen=True, slots=True)
class _EventSQL:
    """The recorder's statements in the driver's own placeholder style (qmark or format),
    for plain DB-API ``executemany``. Table and column names are this module's constants.
    On PostgreSQL events go in with ``COPY`` (psycopg's ``cursor.copy``), which costs the
    writer about half the CPU of ``executemany`` for a batch."""

    insert_event: str
    update_verdict: str
    insert_change: str
    copy_events: str | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> _EventSQL:
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        return cls(
            insert_event=_insert_sql(mark, "events", _EVENT_COLUMNS),
            update_verdict=(
                f"UPDATE events SET verdict = {mark}, agent = {mark}, reasons = {mark} "  # noqa: S608
                f"WHERE message = {mark} AND ts = {mark} AND kind = {mark}"
            ),
            insert_change=_insert_sql(mark, "verdict_changes", _CHANGE_COLUMNS),
            copy_events=(
                f"COPY events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
                if engine.dialect.name == "postgresql"
                else None
            ),
        )


def _insert_sql(mark: str, table: str, columns: Sequence[str]) -> str:
    marks = ", ".join([mark] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def _update_tuple(c: VerdictChange) -> tuple[Any, ...]:
    return (c.verdict.value, c.agent, json.dumps(c.reasons), c.message, c.ts, c.kind.value)


def _change_tuple(c: VerdictChange) -> tuple[Any, ...]:
    """A change as a row, in the order of _CHANGE_COLUMNS."""
    return (
        c.message,
        c.ts,
        c.kind.value,
        c.verdict.value,
        c.agent,
        json.dumps(c.reasons),
        c.changed_at,
    )


def _row_change(row: Any) -> VerdictChange:
    return VerdictChange(
        message=row["message"],
        ts=row["event_ts"],
        kind=EventKind(row["kind"]),
        verdict=Verdict(row["verdict"]),
        agent=row["agent"],
        reasons=json.loads(row["reasons"]),
        changed_at=row["changed_at"],
    )


#: One encoder for every event: json.dumps with separators builds a new one per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":")).encode


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
        _COMPACT_JSON(e.headers) if e.headers else "{}",
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
