"""Upgrading a database an older release made, with two nodes starting at once: the
migrations run once (one node runs them, the other waits for the lock and finds the schema
current), both nodes start, and what the old release stored is still there."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from inkling.store import Store
from inkling.store.engine import HEAD_REVISION, MIGRATION_LOCK, MIGRATIONS
from tests.conftest import fresh_pg_database

#: The revision of the "older release": before tickets, webhooks and privacy.
OLDER = "0005"
OLD_MESSAGE = "<old@acme.example>"

NODE = textwrap.dedent(
    """
    import sys, time
    from inkling.store.engine import Database
    url, start = sys.argv[1], float(sys.argv[2])
    database = Database(url)
    time.sleep(max(0.0, start - time.time()))  # both nodes reach the lock together
    database.ensure_schema()
    print("migrated" if database.migrated else "current")
    """
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def older_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at ``OLDER`` holding one message, as the older release left it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'inkling.db'}"
        yield _at_older_revision(url)
        return
    with fresh_pg_database("inkling_upgrade") as url:
        yield _at_older_revision(url)


def _at_older_revision(url: str) -> str:
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, OLDER)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO messages (id, message_id, sent_at, links_total) "
                f"VALUES ('00000000000000000001', '{OLD_MESSAGE}', 1, 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO links (message, idx, url) VALUES "
                "('00000000000000000001', 0, 'https://old.example/')"
            )
        )
    engine.dispose()
    return url


def test_two_nodes_starting_at_once_migrate_once_and_keep_the_data(older_database: str) -> None:
    # The lock is held here first, so that both nodes are surely waiting for it together
    # (unheld, one node may finish before the other starts, and prove nothing).
    with _migration_lock(older_database):
        start = time.time() + 1.0
        nodes = [
            subprocess.Popen(
                [sys.executable, "-c", NODE, older_database, str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        _wait_until_both_wait(older_database, nodes)
    results = [node.communicate(timeout=120) for node in nodes]
    for node, (_out, err) in zip(nodes, results, strict=True):
        assert node.returncode == 0, err
    said = sorted(out.strip() for out, _err in results)
    assert said == ["current", "migrated"]

    store = Store(older_database)
    try:
        with store.database.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert revision.scalar_one() == HEAD_REVISION
        old = store.messages.find(OLD_MESSAGE)
        assert store.messages.links(old.id) == ["https://old.example/"]
        assert not store.database.migrated  # a third start finds nothing to do
    finally:
        store.close()


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Hold the lock the nodes migrate under, as a node in the middle of migrating would."""
    if url.startswith("sqlite"):
        with Path(url.split("///", 1)[1] + ".migrate.lock").open("a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield
        return
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%(key)s)", MIGRATION_LOCK)
        yield


def _wait_until_both_wait(url: str, nodes: list[subprocess.Popen[str]]) -> None:
    """Until both nodes wait for the lock (PostgreSQL says so; on SQLite, both are still
    running well after their start): neither may go on while it is held."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _assert_still_waiting(nodes)
        if url.startswith("sqlite"):
            time.sleep(3.0)
            _assert_still_waiting(nodes)
            return
        plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain, autocommit=True) as watcher:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
        if waiting and waiting[0] == 2:
            return
        time.sleep(0.1)
    raise AssertionError("the nodes never both waited for the migration lock")


def _assert_still_waiting(nodes: list[subprocess.Popen[str]]) -> None:
    """Fail, with what the node said, if a node has ended while the lock is held."""
    for node in nodes:
        if node.poll() is not None:
            _out, err = node.communicate()
            for other in nodes:
                if other.poll() is None:
                    other.kill()
                other.communicate()
            raise AssertionError(f"a node went on without the lock (exit {node.returncode}): {err}")
