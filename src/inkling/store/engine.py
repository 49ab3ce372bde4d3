"""The database connection: one engine, its schema brought up to date on first use, and
every driver error translated into Inkling's own at this edge.

Nothing connects when a :class:`Database` is made, so a server starts (and answers pixels
and links from its keys and journal) while the database is down; the first operation that
reaches the database checks the schema and migrates it then.

Errors, as :mod:`inkling.errors` draws them: a database that cannot be reached or cannot
write now (refused, restarting, locked, disk full) is :class:`StoreUnavailable`; a unique
key is :class:`StoreConflict`; anything else (a bug, a schema out of step) is
:class:`StoreError`. Callers catch those, never SQLAlchemy's or a driver's.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy import exc as sa_exc

from inkling.errors import StoreConflict, StoreError, StoreUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration: a database at this revision needs no Alembic at all.
HEAD_REVISION = "0013"
CONNECT_TIMEOUT_SECONDS = 5
#: How long a SQLite write waits for another writer's lock before giving up.
SQLITE_BUSY_SECONDS = 30
#: The advisory lock nodes take to migrate a PostgreSQL database (any constant key that
#: nothing else uses: "inkling" in ASCII, as a 64-bit integer).
MIGRATION_LOCK = {"key": int.from_bytes(b"inkling", "big")}

# SQLite result codes (``sqlite3.Error.sqlite_errorname``) that mean "not now" rather than
# "wrong": another writer holds the lock, the disk is full or failing, the file is gone.
_SQLITE_NOT_NOW = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_READONLY",
    "SQLITE_NOMEM",
    "SQLITE_PROTOCOL",
)
# PostgreSQL SQLSTATE classes that mean the same: connection exception, insufficient
# resources (disk full, too many connections), operator intervention (shutting down,
# cannot connect now), system error, and a transaction rolled back by a deadlock or a
# serialization failure (safe to try again).
_POSTGRES_NOT_NOW = ("08", "53", "57", "58", "40")


class Database:
    """One database, reached through one SQLAlchemy engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = url.split(":", 1)[0].split("+", 1)[0]
        try:
            self.engine = _create_engine(url)
        except (sa_exc.SQLAlchemyError, ValueError, ImportError) as exc:
            raise StoreError(f"cannot use the database {redact(url)}: {first_line(exc)}") from exc
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        #: Whether this process ran the migrations (False: none were needed, or another
        #: process ran them while this one waited for the lock).
        self.migrated = False

    def insert(self, table: Table) -> Any:
        """An ``INSERT`` into ``table`` in this database's dialect (see
        :func:`dialect_insert`)."""
        return dialect_insert(self.dialect, table)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed at the end of the block."""
        with self.translated():
            self.ensure_schema()
            with self.engine.begin() as connection:
                yield connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reading."""
        with self.translated():
            self.ensure_schema()
            with self.engine.connect() as connection:
                yield connection

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Run the block with database errors turned into StoreError subclasses."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            translated = translate(exc, self.url)
            if translated is None:
                raise
            raise translated from exc

    def ensure_schema(self) -> None:
        """Bring the schema to the newest revision, once per process (idempotent)."""
        if self._schema_ready:
            return
        with self._schema_lock, self.translated():
            if self._schema_ready:
                return
            self._make_sqlite_directory()
            if self._revision() != HEAD_REVISION:
                self.migrate()
            self._schema_ready = True

    def migrate(self) -> None:
        """Run Alembic's migrations up to the newest revision, one process at a time.

        Nodes that start together after an upgrade must not race each other through the
        same migrations: on PostgreSQL the migrations run in one transaction holding an
        advisory lock (``MIGRATION_LOCK``), on SQLite under an exclusive lock on a file
        beside the database. Whoever waited finds the schema current and does nothing."""
        from alembic import command  # here: loading Alembic costs a command 0.3 s
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.translated(), self._file_lock(), self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), MIGRATION_LOCK)
            if _revision_on(connection, self.dialect) == HEAD_REVISION:
                return  # another process migrated while this one waited
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            self.migrated = True

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers now."""
        with self.translated(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def raw_connection(self) -> Any:
        """A driver (DB-API) connection from the pool, schema checked, for hot loops that
        skip SQLAlchemy's per-statement work. The caller translates its errors
        (:meth:`translated`) and closes it."""
        with self.translated():
            self.ensure_schema()
            return self.engine.raw_connection()

    def close(self) -> None:
        self.engine.dispose()

    def _make_sqlite_directory(self) -> None:
        """SQLite makes its file, not the directory it goes in."""
        if self.dialect == "sqlite":
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An exclusive lock on ``<database>.migrate.lock`` for a SQLite file (nothing
        for PostgreSQL or an in-memory database), released when the block ends."""
        path = self.url.split("///", 1)[-1] if self.dialect == "sqlite" else ""
        if not path or path == ":memory:":
            yield
            return
        with open(f"{path}.migrate.lock", "a+b") as lock:  # noqa: PTH123
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _revision(self) -> str | None:
        with self.engine.connect() as connection:
            try:
                row = connection.execute(text("SELECT version_num FROM alembic_version"))
                found = row.scalar_one_or_none()
            except sa_exc.DBAPIError as exc:
                if _is_not_now(exc.orig):
                    raise
                return None  # no table yet: a new database
        return str(found) if found is not None else None


def _revision_on(connection: Connection, dialect: str) -> str | None:
    """The schema's revision, read inside the migration's transaction (None: a new
    database). On PostgreSQL the table is looked up first: a failed read would abort the
    transaction that holds the lock."""
    if dialect == "postgresql":
        exists = connection.execute(text("SELECT to_regclass('alembic_version')")).scalar()
        if exists is None:
            return None
    elif not connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
    ).first():
        return None
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(found) if found is not None else None


def translate(exc: BaseException, url: str) -> StoreError | None:
    """The StoreError for a SQLAlchemy or driver exception, or None if it is neither."""
    where = redact(url)
    original = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(exc, sa_exc.IntegrityError) or _dbapi_class(original) == "IntegrityError":
        return StoreConflict(f"the database refused a duplicate: {first_line(original)}")
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError) or _is_not_now(original):
        return StoreUnavailable(f"the database {where} is unavailable: {first_line(original)}")
    if isinstance(exc, sa_exc.SQLAlchemyError) or _dbapi_class(original) is not None:
        return StoreError(f"the database {where} refused an operation: {first_line(original)}")
    return None


def _is_not_now(error: BaseException | None) -> bool:
    """Whether a driver error means the database cannot do it now (as opposed to never)."""
    if error is None:
        return False
    if isinstance(error, OSError | ConnectionError | TimeoutError):
        return True
    name = getattr(error, "sqlite_errorname", None)
    if name is not None:
        return any(str(name).startswith(code) for code in _SQLITE_NOT_NOW)
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate:
        return str(sqlstate)[:2] in _POSTGRES_NOT_NOW
    # Errors with no SQLSTATE from a PostgreSQL driver come from the connection itself
    # (refused, reset, timed out); an InterfaceError means the connection is gone.
    return _dbapi_class(error) in ("OperationalError", "InterfaceError")


def _dbapi_class(error: BaseException | None) -> str | None:
    """The PEP 249 exception class ``error`` is an instance of (by name), if any."""
    if error is None:
        return None
    for cls in type(error).__mro__:
        if cls.__name__ in _PEP_249 and cls.__module__.split(".")[0] in ("sqlite3", "psycopg"):
            return cls.__name__
    return None


_PEP_249 = (
    "IntegrityError",
    "OperationalError",
    "InterfaceError",
    "DataError",
    "ProgrammingError",
    "InternalError",
    "NotSupportedError",
    "DatabaseError",
    "Error",
)


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    _into_wal(cursor)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MiB of page cache (the default is 2): the loader inserts into an index on
    # (message, time), whose pages it touches all over
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _into_wal(cursor: Any) -> None:
    """Switch the file to write-ahead logging. SQLite answers "database is locked" at once,
    without waiting out the busy timeout, when two processes open a file still in its
    rollback-journal mode together; the switch is retried for the timeout's length."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def dialect_insert(dialect: str, table: Table) -> Any:
    """An ``INSERT`` into ``table`` in ``dialect``, for its ``ON CONFLICT`` clauses (the
    dialects are loaded here, not at start: they cost 0.1 s of every command)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def redact(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def first_line(exc: BaseException | None) -> str:
    said = str(exc).strip() if exc is not None else ""
    return said.splitlines()[0] if said else type(exc).__name__


_T = TypeVar("_T")
#: Keys one statement names at most: well under every backend's parameter limit (SQLite
#: allows 32,766).
CHUNK = 5000


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` a statement's worth at a time."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
