"""Shared fixtures: a data dir with keys, and a store on each backend.

Store and tracker tests run twice, on SQLite and on the PostgreSQL server at
127.0.0.1:5432 (``make test`` starts it when it is down). Each test session gets its own
PostgreSQL database, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from inkling.store import Store
from inkling.store.schema import metadata
from inkling.tokens import TokenCodec

FIXTURES = Path(__file__).parent / "fixtures"
PG_ADMIN_URL = os.environ.get("INKLING_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def codec(data_dir: Path) -> TokenCodec:
    return TokenCodec.for_data_dir(data_dir)


@contextmanager
def fresh_pg_database(prefix: str = "inkling_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def _pg_store(pg_database_url: str) -> Iterator[Store]:
    store = Store(pg_database_url)
    store.database.ensure_schema()
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend, empty at the start of the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inkling.db'}"
    store: Store = request.getfixturevalue("_pg_store")
    with store.database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(t.name for t in metadata.sorted_tables)}"))
    return store.url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()
