"""Retention on each backend: a purge removes the events older than the cutoff and keeps
their counts, a reading still tells those counts, an old link still redirects (through
the real tracker) while its new hit is no longer recorded, and the daily run inside
``inkling serve`` purges on its own and outlives a database that is away."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from inkling.events.journal import JournalWriter
from inkling.events.recorder import Recorder
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
from inkling.root import purge_daily
from inkling.signals.reading import read_message
from inkling.store import Month, Store
from inkling.store.retention import SECONDS_PER_DAY
from inkling.store.schema import event_tallies, webhook_outbox
from inkling.store.webhooks import Subscription, Webhooks
from inkling.tokens import TokenCodec, new_message_id
from inkling.tracker import ClientAddress, Tracker
from tests.events.helpers import load_journal

NOW = time.time()
CUTOFF = NOW - 180 * SECONDS_PER_DAY
OLD = CUTOFF - 20 * SECONDS_PER_DAY
YOUNG = NOW - 10 * SECONDS_PER_DAY
TARGET = "https://help.example/articles/42"


def _message(store: Store) -> InklingId:
    ident = new_message_id()
    store.messages.register(
        MessageRecord(
            id=ident,
            message_id=MessageIdHeader(f"<{ident}@help.example>"),
            workflow=None,
            ticket="T-7",
            subject="Your refund",
            sent_at=int(OLD - 3600),
            links_total=1,
            recipient="ana@customer.example",
        ),
        [TARGET],
    )
    return ident


def _hit(message: InklingId, kind: EventKind, ts: float, verdict: Verdict, agent: Agent) -> Event:
    link = 0 if kind is EventKind.CLICK else None
    return Event(new_event_id(), message, kind, ts, link=link, verdict=verdict, agent=agent)


def plant(store: Store, start: float = OLD) -> InklingId:
    """A message with five hits from ``start`` on (expired, by default; one of them
    re-judged, one queued for a webhook) and one young open."""
    message = _message(store)
    Webhooks(store.database).add(
        Subscription("whs_1", "https://hooks.example/in", ("message.opened",), "whsec_x", start)
    )
    old = [
        *(
            _hit(message, EventKind.OPEN, start + n, Verdict.MACHINE, Agent.APPLE_MPP)
            for n in range(3)
        ),
        _hit(message, EventKind.OPEN, start + SECONDS_PER_DAY, Verdict.UNKNOWN, Agent.MAIL_CLIENT),
        _hit(message, EventKind.CLICK, start + SECONDS_PER_DAY, Verdict.HUMAN, Agent.BROWSER),
    ]
    store.events.insert([*old, _hit(message, EventKind.OPEN, YOUNG, Verdict.HUMAN, Agent.BROWSER)])
    change = VerdictChange(
        event=old[3].id,
        message=message,
        previous=Verdict.UNKNOWN,
        previous_agent=Agent.MAIL_CLIENT,
        verdict=Verdict.HUMAN,
        agent=Agent.MAIL_CLIENT,
        reasons=["the same reader clicked"],
        changed_at=start + SECONDS_PER_DAY + 60,
    )
    store.events.insert([], [change])
    return message


def test_expired_events_go_and_younger_ones_stay(store: Store) -> None:
    message = plant(store)
    assert store.retention.expiring(CUTOFF) == 5

    done = store.retention.purge(CUTOFF)

    assert (done.events, done.verdict_changes) == (5, 1)
    assert done.webhook_deliveries == 4  # the expired opens' queued deliveries
    [left] = store.events.for_message(message)
    assert left.ts == YOUNG
    assert store.events.changes(message) == []
    with store.database.connect() as connection:
        queued = connection.execute(select(webhook_outbox.c.event)).scalars().all()
    assert queued == [left.id]
    assert store.retention.purge(CUTOFF).events == 0  # nothing twice


def test_tallies_hold_the_counts_by_message_day_kind_verdict_and_agent(store: Store) -> None:
    message = plant(store)
    store.retention.purge(CUTOFF)

    c = event_tallies.c
    with store.database.connect() as connection:
        rows = connection.execute(select(c.message, c.day, c.kind, c.verdict, c.agent, c.count))
        found = {tuple(row[1:]): row[0] for row in rows}
    day = int(OLD // SECONDS_PER_DAY)
    assert set(found.values()) == {message}
    assert sorted(found) == sorted(
        [
            (day, "open", "machine", "apple_mpp", 3),
            (day + 1, "open", "human", "mail_client", 1),  # as re-judged
            (day + 1, "click", "human", "browser", 1),
        ]
    )


def test_a_purge_goes_in_batches_and_says_so(store: Store) -> None:
    # all in the cutoff's own month: on PostgreSQL too, they go row by row
    old = Month.of(OLD).start + 3600
    plant(store, old)
    told: list[int] = []
    done = store.retention.purge(old + 5 * SECONDS_PER_DAY, batch=2, progress=told.append)
    assert told == [2, 2, 1] and done.events == 5


def test_a_purge_asked_to_stop_keeps_what_it_did(store: Store) -> None:
    old = Month.of(OLD).start + 3600  # in the cutoff's month, as above
    plant(store, old)
    cutoff = old + 5 * SECONDS_PER_DAY
    told: list[int] = []
    done = store.retention.purge(cutoff, batch=2, progress=told.append, stopped=lambda: bool(told))
    assert done.events == 2 and store.retention.expiring(cutoff) == 3


def test_nodes_purging_at_once_count_every_event_once(store: Store) -> None:
    """Several nodes on one PostgreSQL database each run the daily purge."""
    if store.database.dialect != "postgresql":
        pytest.skip("one SQLite database is served by one node")
    message = _message(store)
    hits = [
        _hit(message, EventKind.OPEN, OLD + n, Verdict.MACHINE, Agent.APPLE_MPP)
        for n in range(3000)
    ]
    store.events.insert(hits)
    nodes = [Store(store.url) for _ in range(3)]
    for node in nodes:  # one at a time: Alembic's context is not for threads
        node.database.ensure_schema()
    try:
        with ThreadPoolExecutor(len(nodes)) as pool:
            done = list(pool.map(lambda node: node.retention.purge(CUTOFF, batch=100), nodes))
    finally:
        for node in nodes:
            node.close()
    assert sum(d.events for d in done) == 3000
    assert store.retention.tallies(message) == {("open", "machine"): 3000}


def test_the_reading_still_tells_the_expired_counts(store: Store) -> None:
    message = plant(store)
    store.retention.purge(CUTOFF)

    reading = read_message(store, message).as_json()

    assert reading["opens"] == {"total": 1, "human": 1, "machine": 0, "unknown": 0}
    assert reading["expired"] == {
        "opens": {"total": 4, "human": 1, "machine": 3, "unknown": 0},
        "clicks": {"total": 1, "human": 1, "machine": 0, "unknown": 0},
        "other": {},
    }
    assert (
        "Older events expired; their counts are kept: 4 opens (1 by a person)"
        in (reading["sentence"])
    )


def test_a_purged_message_link_still_redirects_and_its_recording_stops(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = plant(store)
    store.retention.purge(NOW + 1)  # everything, the young open too
    old = codec.click_token(message, 0, int(OLD - 3600), TARGET)
    young = codec.click_token(message, 1, int(YOUNG), TARGET)  # mail still within retention

    async def click() -> None:
        journal = JournalWriter(tmp_path / "journal")
        journal.open()
        recorder = Recorder(journal)
        recorder.start()
        app = Tracker(codec, recorder.record, ClientAddress(), lambda address: "")
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for token in (old, young):
                response = await http.get(f"/t/c/{token}", headers={"User-Agent": "Mozilla/5.0"})
                assert response.status_code == 302
                assert response.headers["location"] == TARGET
        await recorder.close()

    asyncio.run(click())
    load_journal(tmp_path / "journal", store, codec, retention_seconds=180 * SECONDS_PER_DAY)
    # the old mail's click redirected but was not recorded; the young one's was
    assert [(e.kind, e.link) for e in store.events.for_message(message)] == [(EventKind.CLICK, 1)]


def test_the_daily_purge_runs_on_its_own(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    plant(store)
    caplog.set_level(logging.INFO, logger="inkling.root")
    stop = purge_daily(store, 180, first=0.01)()
    try:
        deadline = time.monotonic() + 10
        while store.retention.expiring(CUTOFF) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop()
    assert store.retention.expiring(CUTOFF) == 0
    assert "retention: purged 5 events older than 180 days" in caplog.text


def test_the_daily_purge_outlives_a_database_that_is_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = Store("postgresql+psycopg://postgres@127.0.0.1:9/nothing")  # nothing listens
    caplog.set_level(logging.WARNING, logger="inkling.root")
    stop = purge_daily(away, 180, first=0.01, every=0.05)()
    try:
        deadline = time.monotonic() + 10
        while caplog.text.count("no purge this time") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop()
        away.close()
    assert caplog.text.count("retention: no purge this time (tried again later)") >= 2
