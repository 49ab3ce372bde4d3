"""Tickets, the queue and finding messages over HTTP, behind API keys, on each backend."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from inkling import root
from inkling.api.keys import ApiKeys
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.model import (
    Agent,
    Event,
    EventKind,
    MessageIdHeader,
    MessageRecord,
    Verdict,
    new_event_id,
)
from inkling.root import Services
from inkling.store import Store
from inkling.times import parse_time
from inkling.tokens import TokenCodec, new_message_id

TICKET = {
    "subject": "Charged twice",
    "priority": "urgent",
    "status": "open",
    "team": "billing",
    "requester": "ana@customer.example",
    "created_at": "2026-12-04T10:00:00+01:00",
}


class Api:
    def __init__(self, store: Store, data_dir: Path, **settings: Any) -> None:
        chosen = Settings(data_dir=data_dir, **settings)
        codec = TokenCodec.for_data_dir(data_dir)
        self.app = root.api(chosen, Services(DataDir(data_dir), store, codec, chosen.base_url))
        key = ApiKeys.for_data_dir(data_dir).add("helpdesk")
        self.auth = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", self.auth)

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as c:
                return await c.request(method, url, headers=headers, **kwargs)

        return asyncio.run(go())


@pytest.fixture
def api(store: Store, data_dir: Path) -> Api:
    return Api(store, data_dir)


def _send(store: Store, ticket: str, sent: str, *recipients: str) -> list[MessageRecord]:
    copies = [
        MessageRecord(
            new_message_id(),
            MessageIdHeader("<a1@help.example>"),
            None,
            ticket,
            "Your refund",
            int(parse_time(sent, "sent")),
            1,
            recipient=r,
        )
        for r in recipients
    ]
    store.messages.register_all([(c, ["https://help.example/refunds"]) for c in copies])
    return copies


def _hit(store: Store, copy: MessageRecord, when: str, kind: EventKind, verdict: Verdict) -> None:
    event = Event(new_event_id(), copy.id, kind, parse_time(when, "when"))
    event.verdict = verdict
    event.agent = Agent.APPLE_MPP if verdict is Verdict.MACHINE else Agent.MAIL_CLIENT
    store.events.insert([event])


def test_put_then_get_a_ticket_with_its_recommendation(api: Api, store: Store) -> None:
    put = api.call("PUT", "/api/v1/tickets/4123", json=TICKET)
    assert put.status_code == 200 and put.json()["stored"] is True
    (copy,) = _send(store, "4123", "2026-12-04T15:00:00+01:00", "ana@customer.example")
    _hit(store, copy, "2026-12-04T15:01:00+01:00", EventKind.OPEN, Verdict.MACHINE)
    got = api.call("GET", "/api/v1/tickets/4123", params={"at": "2026-12-07T15:00:00+01:00"})
    assert got.status_code == 200
    body = got.json()
    assert body["ticket"]["priority"] == "urgent"
    assert body["recommendation"]["action"] == "escalate"
    assert body["recommendation"]["due"] == "2026-12-07T14:00:00Z"
    assert body["recommendation"]["due_now"] is True
    assert body["reading"]["state"] == "machine_only"
    assert body["messages"][0]["recipients"][0]["recipient"] == "ana@customer.example"
    older = api.call(
        "PUT", "/api/v1/tickets/4123", json=TICKET | {"updated_at": "2026-12-01T00:00:00Z"}
    )
    assert older.json()["stored"] is False


def test_bad_tickets_are_a_422_naming_the_field(api: Api) -> None:
    bad = api.call("PUT", "/api/v1/tickets/1", json=TICKET | {"priority": "p1"})
    assert bad.status_code == 422 and "priority must be one of" in bad.json()["detail"]
    other = api.call("PUT", "/api/v1/tickets/1", json=TICKET | {"id": "2"})
    assert other.status_code == 422 and "does not match" in other.json()["detail"]
    missing = api.call("GET", "/api/v1/tickets/nope")
    assert missing.status_code == 404


def test_the_queue_needs_a_key_and_keeps_the_contracts_shape(api: Api, store: Store) -> None:
    api.call("PUT", "/api/v1/tickets/4123", json=TICKET)
    _send(store, "4123", "2026-12-04T15:00:00+01:00", "ana@customer.example")
    assert api.call("GET", "/api/v1/queue", headers={}).status_code == 401
    queue = api.call("GET", "/api/v1/queue", params={"at": "2026-12-07T15:00:00+01:00"})
    assert queue.status_code == 200
    (item,) = queue.json()
    assert set(item) == {
        "ticket",
        "priority",
        "team",
        "assignee",
        "action",
        "due",
        "due_now",
        "state",
        "message",
        "reason",
    }
    assert (item["action"], item["state"], item["message"]) == (
        "escalate",
        "not_opened",
        "<a1@help.example>",
    )
    bad = api.call("GET", "/api/v1/queue", params={"at": "tomorrow"})
    assert bad.status_code == 422


def test_a_message_sent_as_copies_reads_as_one_thread(api: Api, store: Store) -> None:
    ana, boss = _send(
        store, "4123", "2026-11-04T15:00:00+01:00", "ana@customer.example", "boss@customer.example"
    )
    _hit(store, boss, "2026-11-04T15:30:00+01:00", EventKind.OPEN, Verdict.HUMAN)
    thread = api.call("GET", "/api/v1/messages/<a1@help.example>")
    assert thread.status_code == 200
    body = thread.json()
    assert body["state"] == "opened"
    assert [(r["recipient"], r["state"]) for r in body["recipients"]] == [
        (ana.recipient, "not_opened"),
        (boss.recipient, "opened"),
    ] or [(r["recipient"], r["state"]) for r in body["recipients"]] == [
        (boss.recipient, "opened"),
        (ana.recipient, "not_opened"),
    ]


def test_messages_are_found_by_ticket_recipient_time_and_state_a_page_at_a_time(
    api: Api, store: Store
) -> None:
    for n in range(5):
        copy = MessageRecord(
            new_message_id(),
            MessageIdHeader(f"<m{n}@help.example>"),
            None,
            "7" if n % 2 else "8",
            "Hi",
            1_790_000_000 + n * 3600,
            0,
            recipient=f"c{n}@customer.example",
        )
        store.messages.register(copy, [])
        if n == 3:
            _hit(store, copy, "2026-10-20T10:00:00Z", EventKind.CLICK, Verdict.HUMAN)
    first = api.call("GET", "/api/v1/messages", params={"limit": 2}).json()
    assert [m["message_id"] for m in first["messages"]] == [
        "<m4@help.example>",
        "<m3@help.example>",
    ]
    second = api.call("GET", "/api/v1/messages", params={"limit": 2, "cursor": first["next"]})
    assert [m["message_id"] for m in second.json()["messages"]] == [
        "<m2@help.example>",
        "<m1@help.example>",
    ]
    by_ticket = api.call("GET", "/api/v1/messages", params={"ticket": "7"}).json()
    assert [m["message_id"] for m in by_ticket["messages"]] == [
        "<m3@help.example>",
        "<m1@help.example>",
    ]
    assert by_ticket["next"] is None
    clicked = api.call("GET", "/api/v1/messages", params={"state": "clicked"}).json()
    assert [m["message_id"] for m in clicked["messages"]] == ["<m3@help.example>"]
    someone = api.call("GET", "/api/v1/messages", params={"recipient": "C2@customer.example"})
    assert [m["message_id"] for m in someone.json()["messages"]] == ["<m2@help.example>"]
    window = api.call(
        "GET", "/api/v1/messages", params={"since": "1790003600", "until": "1790010800"}
    )
    assert [m["message_id"] for m in window.json()["messages"]] == [
        "<m2@help.example>",
        "<m1@help.example>",
    ]
    assert api.call("GET", "/api/v1/messages", params={"state": "read"}).status_code == 422
    assert api.call("GET", "/api/v1/messages", params={"cursor": "!!"}).status_code == 422
