"""The outbox, on each backend: written with the events, in their transaction, only for
the types someone subscribed to; announced once however often an event is loaded."""

from __future__ import annotations

import json
import time

from sqlalchemy import delete

from inkling.model import (
    Agent,
    Event,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Verdict,
    new_event_id,
)
from inkling.store import SegmentProgress, Store
from inkling.store.schema import events
from inkling.store.webhooks import Due, Subscription, Webhooks
from inkling.tokens import new_message_id
from inkling.webhooks.payloads import due_body


def _all_due(webhooks: Webhooks) -> list[Due]:
    """Every subscription's rows due now, in the order each would go out."""
    now = time.time() + 1
    return [row for sub, _ in webhooks.heads() for row in webhooks.due(sub.id, now, 1000)]


def _subscribe(webhooks: Webhooks, ident: str, *types: str) -> None:
    webhooks.add(Subscription(ident, f"http://127.0.0.1:9/{ident}", types, "whsec_AAAA", 1.0))


def _registered(store: Store) -> MessageRecord:
    record = MessageRecord(
        id=new_message_id(),
        message_id=MessageIdHeader("<r1@help.example>"),
        workflow=None,
        ticket="4123",
        subject="Your refund",
        sent_at=1_790_000_000,
        links_total=1,
        recipient="ana@customer.example",
    )
    store.messages.register(record, ["https://help.example/articles/refunds"])
    return record


def _click(message: InklingId, ts: float) -> Event:
    return Event(
        new_event_id(),
        message,
        EventKind.CLICK,
        ts,
        link=0,
        ip="203.0.113.0",
        user_agent="Mozilla/5.0",
        verdict=Verdict.HUMAN,
        agent=Agent.BROWSER,
        reasons=["a browser's request, from the mail's page"],
    )


def _open(message: InklingId, ts: float) -> Event:
    return Event(new_event_id(), message, EventKind.OPEN, ts, ip="203.0.113.0")


def test_no_subscription_queues_nothing(store: Store, webhooks: Webhooks) -> None:
    message = new_message_id()
    loader = store.events.loader()
    loader.load([_click(message, 1.0), _open(message, 2.0)], [], [SegmentProgress("s1", 10, 2)])
    loader.close()
    store.events.insert([Event(new_event_id(), message, EventKind.REPLY, 3.0, method="SMTP")])
    assert store.events.count() == 3
    assert _all_due(webhooks) == []


def test_loaded_events_are_queued_for_the_types_subscribed(
    store: Store, webhooks: Webhooks
) -> None:
    record = _registered(store)
    _subscribe(webhooks, "clicks", "message.clicked")
    _subscribe(webhooks, "all", "*")
    click, opened = _click(record.id, 1_790_000_100.5), _open(record.id, 1_790_000_050.0)
    loader = store.events.loader()
    loader.load([opened, click], [], [SegmentProgress("s1", 10, 2)])
    loader.close()

    due = _all_due(webhooks)
    assert sorted((d.subscription, d.type) for d in due) == [
        ("all", "message.clicked"),
        ("all", "message.opened"),
        ("clicks", "message.clicked"),
    ]
    clicked = next(d for d in due if d.subscription == "clicks")
    assert clicked.event_id == click.id
    payload = json.loads(due_body(clicked))
    assert payload["type"] == "message.clicked"
    assert payload["timestamp"] == "2026-09-21T14:15:00Z"
    assert payload["data"] == {
        "id": click.id,
        "message": {"message_id": "<r1@help.example>", "id": record.id},
        "ticket": "4123",
        "recipient": "ana@customer.example",
        "kind": "click",
        "ts": "2026-09-21T14:15:00Z",
        "verdict": "human",
        "agent": "browser",
        "reasons": ["a browser's request, from the mail's page"],
        "link": {"index": 0, "url": "https://help.example/articles/refunds"},
    }
    assert "203.0.113" not in due_body(clicked)


def test_loading_the_same_events_again_queues_nothing_more(
    store: Store, webhooks: Webhooks
) -> None:
    _subscribe(webhooks, "clicks", "message.clicked")
    batch = [_click(new_message_id(), 1.0)]
    loader = store.events.loader()
    loader.load(batch, [], [SegmentProgress("s1", 10, 1)])
    loader.load(batch, [], [SegmentProgress("s1", 10, 1)])  # the duplicate path
    loader.close()
    assert len(_all_due(webhooks)) == 1


def test_mail_recorded_by_insert_is_queued_in_its_transaction(
    store: Store, webhooks: Webhooks
) -> None:
    _subscribe(webhooks, "replies", "message.replied", "message.bounced")
    message = new_message_id()
    reply = Event(new_event_id(), message, EventKind.REPLY, 5.0, method="IMAP")
    bounce = Event(
        new_event_id(), message, EventKind.BOUNCE, 6.0, method="SMTP", details={"status": "5.1.1"}
    )
    mdn = Event(new_event_id(), message, EventKind.READ_RECEIPT, 7.0, method="SMTP")
    store.events.insert([reply, bounce, mdn])
    store.events.insert([reply])  # stored already: skipped, and not announced again
    due = _all_due(webhooks)
    assert [(d.type, d.event_id) for d in due] == [
        ("message.replied", reply.id),
        ("message.bounced", bounce.id),
    ]
    bounced = json.loads(due_body(due[1]))["data"]
    assert bounced["details"] == {"status": "5.1.1"}
    assert bounced["message"] == {"message_id": None, "id": message}  # not registered


def test_published_events_go_to_their_subscribers_once(store: Store, webhooks: Webhooks) -> None:
    _subscribe(webhooks, "due", "recommendation.due")
    _subscribe(webhooks, "clicks", "message.clicked")
    data = {"ticket": "4123", "recommendation": "follow up"}
    assert webhooks.publish("recommendation.due", "rec-1", data, 1_790_000_000.0) == 1
    webhooks.publish("recommendation.due", "rec-1", data, 1_790_000_000.0)
    due = _all_due(webhooks)
    assert [(d.subscription, d.event_id) for d in due] == [("due", "rec-1")]
    assert [(s.id, head) for s, head in webhooks.heads()] == [
        ("due", 1_790_000_000.0),
        ("clicks", None),
    ]
    assert json.loads(due_body(due[0])) == {
        "type": "recommendation.due",
        "timestamp": "2026-09-21T14:13:20Z",
        "data": data,
    }


def test_removing_a_subscription_drops_its_outbox(store: Store, webhooks: Webhooks) -> None:
    _subscribe(webhooks, "clicks", "message.clicked")
    store.events.insert([_click(new_message_id(), 1.0)])
    assert webhooks.remove("clicks")
    assert not webhooks.remove("clicks")
    assert _all_due(webhooks) == []
    assert webhooks.counts() == []


def test_a_row_waiting_for_its_retry_holds_back_the_rows_behind_it(
    store: Store, webhooks: Webhooks
) -> None:
    _subscribe(webhooks, "clicks", "message.clicked")
    first, second = _click(new_message_id(), 1.0), _click(new_message_id(), 2.0)
    store.events.insert([first, second])
    now = time.time()
    head = webhooks.due("clicks", now + 1, 10)[0]
    webhooks.retry(head.row, due_body(head), now + 60, "HTTP 503")
    assert webhooks.due("clicks", now + 1, 10) == []
    (heads,) = webhooks.heads()
    assert heads[1] == now + 60
    again = webhooks.due("clicks", now + 61, 10)
    assert [(d.event_id, d.attempts) for d in again] == [(first.id, 1), (second.id, 0)]
    webhooks.delivered(again[0].row)
    assert [d.event_id for d in webhooks.due("clicks", now + 61, 10)] == [second.id]


def test_the_list_shows_the_latest_error(store: Store, webhooks: Webhooks) -> None:
    _subscribe(webhooks, "clicks", "message.clicked")
    store.events.insert([_click(new_message_id(), float(n)) for n in range(3)])
    now = time.time() + 1
    first, second, _ = webhooks.due("clicks", now, 10)
    webhooks.give_up(first.row, due_body(first), "HTTP 410: gone")
    webhooks.retry(second.row, due_body(second), now + 60, "HTTP 503: busy")
    (counts,) = webhooks.counts()
    assert (counts.pending, counts.failed, counts.last_error) == (2, 1, "HTTP 503: busy")


def test_an_event_erased_and_loaded_again_keeps_its_one_outbox_row(
    store: Store, webhooks: Webhooks
) -> None:
    _subscribe(webhooks, "clicks", "message.clicked")
    click = _click(new_message_id(), 1.0)
    loader = store.events.loader()
    loader.load([click], [], [SegmentProgress("s1", 10, 1)])
    with store.database.engine.begin() as connection:  # erased, its webhook still pending
        connection.execute(delete(events).where(events.c.id == click.id))
    loader.load([click], [], [SegmentProgress("s1", 10, 1)])  # PostgreSQL: COPY refused, redone
    loader.close()
    assert store.events.count() == 1
    assert [d.event_id for d in _all_due(webhooks)] == [click.id]
