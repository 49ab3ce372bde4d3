"""The live feed: ``GET /api/v1/stream`` over real HTTP (uvicorn on loopback), behind API
keys; its cursor, resuming with Last-Event-ID, heartbeats, and no IP address."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Header, HTTPException
from sqlalchemy import event

from inkling import root
from inkling.api.keys import ApiKeys
from inkling.api.stream import stream_router
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.model import Agent, Event, EventKind, Verdict, new_event_id
from inkling.root import Services
from inkling.store import Store
from inkling.store.webhooks import StoredEvent, Webhooks
from inkling.tokens import TokenCodec, new_message_id
from inkling.webhooks import FeedCursor


@contextmanager
def serving(app: Any) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _human_click(message: str, ts: float) -> Event:
    return Event(
        new_event_id(),
        message,  # type: ignore[arg-type]
        EventKind.CLICK,
        ts,
        link=1,
        ip="192.0.2.0",
        verdict=Verdict.HUMAN,
        agent=Agent.BROWSER,
    )


def _read_events(response: httpx.Response, count: int) -> list[dict[str, str]]:
    """The first ``count`` SSE events of a stream (comments skipped)."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in current:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        current[field] = value.removeprefix(" ")
    return events


def test_new_signals_stream_with_resumable_ids(store: Store, data_dir: Path) -> None:
    keys = ApiKeys.for_data_dir(data_dir)
    key = keys.add("ana")
    settings = Settings(data_dir=data_dir)
    services = Services(DataDir(data_dir), store, TokenCodec.for_data_dir(data_dir), "")
    message = new_message_id()
    old = _human_click(message, time.time() - 3600)
    store.events.insert([old])  # before the stream: not in it
    with serving(root.api(settings, services)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/api/v1/stream").status_code == 401
        auth = {"Authorization": f"Bearer {key}"}
        with client.stream("GET", "/api/v1/stream", headers=auth, timeout=10) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            now = time.time()
            first, second = _human_click(message, now), _human_click(message, now + 0.001)
            machine = Event(new_event_id(), message, EventKind.OPEN, now, verdict=Verdict.MACHINE)
            store.events.insert([first, machine, second])
            got = _read_events(response, 2)
        datas = [json.loads(e["data"]) for e in got]
        assert sorted(d["data"]["id"] for d in datas) == sorted([first.id, second.id])
        assert all(d["type"] == "message.clicked" for d in datas)
        assert "192.0.2" not in "".join(e["data"] for e in got)

        third = _human_click(message, time.time())
        store.events.insert([third])
        resume = {**auth, "Last-Event-ID": got[-1]["id"]}
        with client.stream("GET", "/api/v1/stream", headers=resume, timeout=10) as response:
            (again,) = _read_events(response, 1)
        assert json.loads(again["data"])["data"]["id"] == third.id  # nothing twice, none lost


def test_an_idle_stream_gets_heartbeats(webhooks: Webhooks) -> None:
    def auth(authorization: str = Header("")) -> str:
        if authorization != "Bearer k":
            raise HTTPException(401)
        return "k"

    app = FastAPI()
    app.include_router(stream_router(webhooks, auth, poll=0.05, heartbeat=0.2))
    with serving(app) as url, httpx.Client(base_url=url) as client:
        assert (
            client.get("/api/v1/stream", headers={"Authorization": "Bearer x"}).status_code == 401
        )
        headers = {"Authorization": "Bearer k"}
        with client.stream("GET", "/api/v1/stream", headers=headers, timeout=5) as response:
            started = time.monotonic()
            lines = response.iter_lines()
            comment = next(line for line in lines if line.startswith(":"))
        assert comment.startswith(": ping") and time.monotonic() - started < 2


def _stored(ident: str, ts: float) -> StoredEvent:
    return StoredEvent(ident, "m", "click", ts, "human", None, [], None, None, {}, None, None, None)


def test_the_cursor_sends_late_arrivals_once_and_resumes_after_its_mark() -> None:
    cursor = FeedCursor.resume(None, now=100.0, window=10.0)
    assert cursor.since == 100.0
    sent = cursor.take([_stored("a", 99.0), _stored("b", 101.0), _stored("c", 102.0)])
    assert [e.id for e, _ in sent] == ["b", "c"]  # "a" was before the stream began
    assert cursor.since == 100.0
    late = cursor.take([_stored("b", 101.0), _stored("late", 100.5), _stored("c", 102.0)])
    assert [e.id for e, _ in late] == ["late"]
    mark = sent[-1][1]
    assert late[0][1] == mark  # a late arrival does not move the mark back
    resumed = FeedCursor.resume(mark, now=500.0, window=10.0)
    again = resumed.take([_stored("b", 101.0), _stored("c", 102.0), _stored("d", 102.0)])
    assert [e.id for e, _ in again] == ["d"]


@pytest.mark.parametrize("bad", ["", "nonsense", "nan~x", "inf~x", "~x"])
def test_an_id_not_of_the_feed_starts_now(bad: str) -> None:
    cursor = FeedCursor.resume(bad, now=100.0)
    assert [e.id for e, _ in cursor.take([_stored("old", 50.0), _stored("new", 100.5)])] == ["new"]


def test_the_feed_reads_signals_from_a_time_on_by_the_signals_index(
    store: Store, webhooks: Webhooks
) -> None:
    message = new_message_id()
    old_reply = Event(new_event_id(), message, EventKind.REPLY, 10.0, method="IMAP")
    machine = Event(new_event_id(), message, EventKind.OPEN, 30.0, verdict=Verdict.MACHINE)
    new_reply = Event(new_event_id(), message, EventKind.REPLY, 40.0, method="IMAP")
    click = _human_click(message, 20.0)
    store.events.insert([old_reply, machine, new_reply, click])
    assert [e.id for e in webhooks.signals_since(15.0, 10)] == [click.id, new_reply.id]
    assert [e.id for e in webhooks.signals_since(15.0, 1)] == [click.id]
    if store.database.dialect == "sqlite":  # and by the index, not a scan of every event
        asked: list[tuple[str, Any]] = []

        def keep(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
            asked.append((statement, params))

        event.listen(store.database.engine, "before_cursor_execute", keep)
        webhooks.signals_since(15.0, 10)
        event.remove(store.database.engine, "before_cursor_execute", keep)
        ((statement, params),) = asked
        with store.database.engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
        assert "USING INDEX ix_events_signals_ts" in str(plan[0])
