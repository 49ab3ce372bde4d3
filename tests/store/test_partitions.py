"""The events table by month on PostgreSQL: made ahead and on demand, dropped whole by
retention with the counts kept, and the upgrade that partitions what an older release
stored. SQLite keeps one table (the rest of the suite runs on it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, func, select, text

from inkling.model import (
    Agent,
    Event,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Verdict,
    VerdictChange,
    new_event_id,
)
from inkling.store import Month, Store
from inkling.store.engine import MIGRATIONS
from inkling.store.retention import SECONDS_PER_DAY
from inkling.store.schema import event_tallies, metadata, verdict_changes
from inkling.tokens import new_message_id
from tests.conftest import fresh_pg_database

pytestmark = pytest.mark.postgres

MARCH_2024 = datetime(2024, 3, 15, 12, tzinfo=UTC).timestamp()
JULY_2023 = datetime(2023, 7, 1, 0, 0, 1, tzinfo=UTC).timestamp()


@pytest.fixture
def pg(pg_database_url: str) -> Iterator[Store]:
    """A store on the session's PostgreSQL database, its events emptied, and no month of
    events older than this one left from another test."""
    store = Store(pg_database_url)
    with store.database.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in metadata.sorted_tables)}")
        for month in store.partitions.months():
            if month < Month.of(time.time()):
                connection.exec_driver_sql(f"DROP TABLE {month.name}")
    store.partitions.forget()
    yield store
    store.close()


def _message(store: Store) -> InklingId:
    ident = new_message_id()
    record = MessageRecord(
        id=ident,
        message_id=MessageIdHeader(f"<{ident}@help.example>"),
        workflow=None,
        ticket="T-1",
        subject="Your refund",
        sent_at=int(JULY_2023),
        links_total=0,
        recipient="ana@customer.example",
    )
    store.messages.register(record, [])
    return ident


def _open(message: InklingId, ts: float, verdict: Verdict = Verdict.MACHINE) -> Event:
    return Event(
        new_event_id(), message, EventKind.OPEN, ts, verdict=verdict, agent=Agent.APPLE_MPP
    )


def _relkind(store: Store, name: str) -> str | None:
    with store.database.connect() as connection:
        found = connection.execute(
            text("SELECT relkind FROM pg_class WHERE relname = :n"), {"n": name}
        )
        row = found.first()
    return None if row is None else str(row[0])


def test_events_are_kept_by_month_with_the_coming_months_made_ahead(pg: Store) -> None:
    assert _relkind(pg, "events") == "p"  # a partitioned table
    this = Month.of(time.time())
    assert {this, this.next(), this.next().next()} <= set(pg.partitions.months())


def test_a_month_is_made_when_its_first_events_arrive_and_loading_twice_stores_once(
    pg: Store,
) -> None:
    message = _message(pg)
    batch = [_open(message, MARCH_2024), _open(message, time.time())]
    loader = pg.events.loader()
    try:
        loader.load(batch, [], [])
        loader.load(batch, [], [])  # the same journal loaded again
    finally:
        loader.close()
    pg.events.insert([_open(message, JULY_2023)])  # mail's path
    assert _relkind(pg, "events_2024_03") == "r" and _relkind(pg, "events_2023_07") == "r"
    stored = pg.events.for_message(message)
    assert sorted(e.ts for e in stored) == sorted([JULY_2023, MARCH_2024, batch[1].ts])


def test_a_month_is_vacuumed_and_analyzed_sooner_than_postgresql_would_by_default(
    pg: Store,
) -> None:
    """A month takes inserts all month: its visibility map and statistics should not wait
    for a fifth of it to change (PostgreSQL's default)."""
    message = _message(pg)
    pg.events.insert([_open(message, MARCH_2024)])
    with pg.database.connect() as connection:
        options = connection.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'events_2024_03'")
        ).scalar_one()
    assert "autovacuum_vacuum_insert_scale_factor=0.05" in options
    assert "autovacuum_analyze_scale_factor=0.01" in options


def test_a_whole_expired_month_is_dropped_and_its_counts_kept(pg: Store) -> None:
    message = _message(pg)
    march, april = Month(2024, 3), Month(2024, 4)
    old = [_open(message, march.start + n * 3600) for n in range(3)]
    straddling = [_open(message, april.start + 3600), _open(message, april.start + 9 * 86400)]
    pg.events.insert([*old, *straddling])
    change = VerdictChange(
        event=old[0].id,
        message=message,
        previous=Verdict.UNKNOWN,
        previous_agent=None,
        verdict=Verdict.MACHINE,
        agent=Agent.APPLE_MPP,
        reasons=["Apple's proxy"],
        changed_at=march.start + 60,
    )
    pg.events.insert([], [change])
    cutoff = april.start + 5 * 86400

    done = pg.retention.purge(cutoff)

    assert (done.events, done.verdict_changes) == (4, 1)
    assert march not in pg.partitions.months() and april in pg.partitions.months()
    assert [e.ts for e in pg.events.for_message(message)] == [straddling[1].ts]
    with pg.database.connect() as connection:
        counted = connection.execute(select(func.sum(event_tallies.c.count))).scalar_one()
        days = set(connection.execute(select(event_tallies.c.day)).scalars())
        history = connection.execute(select(func.count()).select_from(verdict_changes))
        assert history.scalar_one() == 0
    assert counted == 4
    assert days == {
        int(march.start // SECONDS_PER_DAY),
        int((april.start + 3600) // SECONDS_PER_DAY),
    }
    assert pg.retention.tallies(message) == {("open", "machine"): 4}


def test_a_month_another_node_dropped_is_made_again_for_a_late_event(
    pg: Store, pg_database_url: str
) -> None:
    message = _message(pg)
    loader = pg.events.loader()
    other = Store(pg_database_url)
    try:
        loader.load([_open(message, MARCH_2024)], [], [])
        other.retention.purge(
            Month(2024, 4).start
        )  # drops March: this node still thinks it is there
        late = _open(message, MARCH_2024 + 60)
        loader.load([late], [], [])
    finally:
        loader.close()
        other.close()
    assert [e.id for e in pg.events.for_message(message)] == [late.id]


def test_two_nodes_making_the_same_month_at_once_both_go_on(
    pg: Store, pg_database_url: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    nodes = [Store(pg_database_url) for _ in range(4)]
    message = _message(pg)
    try:
        with ThreadPoolExecutor(len(nodes)) as pool:
            list(pool.map(lambda node: node.events.insert([_open(message, JULY_2023)]), nodes))
    finally:
        for node in nodes:
            node.close()
    assert len(pg.events.for_message(message)) == 4


def test_the_upgrade_partitions_what_an_older_release_stored_and_can_go_back() -> None:
    with fresh_pg_database("inkling_partitions") as url:
        engine = create_engine(url)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0012")
            for n, ts in enumerate([JULY_2023, MARCH_2024, MARCH_2024 + 1, time.time()]):
                connection.execute(
                    text(
                        "INSERT INTO events (id, message, kind, ts, method, evidence, details, "
                        "verdict, reasons, leanings) "
                        "VALUES (:id, 'm1', 'open', :ts, 'GET', '{}', '{}', 'machine', '[]', '[]')"
                    ),
                    {"id": f"e{n}", "ts": ts},
                )
        store = Store(url)
        try:
            assert store.partitions.months()[:2] == [Month(2023, 7), Month(2024, 3)]
            assert len(store.events.for_message(InklingId("m1"))) == 4
            with store.database.connect() as connection:
                indexes = set(
                    connection.exec_driver_sql(
                        "SELECT indexname FROM pg_indexes WHERE tablename = 'events'"
                    ).scalars()
                )
            assert {"events_pkey", "ix_events_report", "ix_events_signals_ts"} <= indexes
        finally:
            store.close()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0012")
            kind = connection.exec_driver_sql(
                "SELECT relkind FROM pg_class WHERE relname = 'events'"
            )
            assert kind.scalar_one() == "r"
            assert connection.exec_driver_sql("SELECT count(*) FROM events").scalar_one() == 4
        engine.dispose()
