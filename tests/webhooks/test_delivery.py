"""Delivery to a real receiver on loopback: signed as Standard Webhooks says, retried
after a failure, nothing lost while the receiver is down, and one endpoint that hangs
slows no other."""

from __future__ import annotations

import json
import logging
import time

import pytest
from standardwebhooks import Webhook

from inkling.model import Agent, Event, EventKind, Verdict, new_event_id
from inkling.store import Store
from inkling.store.webhooks import Webhooks
from inkling.tokens import new_message_id
from inkling.webhooks import Dispatcher, RetryPolicy, Sender, send_test, subscribe
from tests.webhooks.conftest import QUICK
from tests.webhooks.receiver import Receiver, dead_port, receiving


def _clicks(store: Store, count: int) -> list[Event]:
    message = new_message_id()
    batch = [
        Event(
            new_event_id(),
            message,
            EventKind.CLICK,
            1_790_000_000.0 + n,
            link=0,
            ip="198.51.100.0",
            verdict=Verdict.HUMAN,
            agent=Agent.BROWSER,
        )
        for n in range(count)
    ]
    store.events.insert(batch)
    return batch


def test_a_delivery_verifies_with_the_standardwebhooks_package(
    store: Store, webhooks: Webhooks, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    subscription = subscribe(webhooks, receiver.url, ("message.clicked",))
    (click,) = _clicks(store, 1)
    (got,) = receiver.wait_for(1)
    payload = Webhook(subscription.secret).verify(got.body, got.headers)
    assert got.headers["webhook-id"] == click.id
    assert payload["type"] == "message.clicked"
    assert payload["data"]["id"] == click.id
    assert payload["data"]["verdict"] == "human"
    assert b"198.51.100" not in got.body
    with pytest.raises(Exception, match="signature"):  # another secret does not verify it
        Webhook("whsec_" + "A" * 43).verify(got.body, got.headers)


def test_a_500_is_retried_then_delivered_under_the_same_id(
    store: Store, webhooks: Webhooks, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    receiver.behaviour.statuses = [500, 503, 200]
    subscribe(webhooks, receiver.url, ("*",))
    (click,) = _clicks(store, 1)
    first, second, third = receiver.wait_for(3)
    assert {r.headers["webhook-id"] for r in (first, second, third)} == {click.id}
    assert first.body == third.body  # the payload as first sent
    assert third.at - first.at >= QUICK.base / 2  # backed off, not hammered
    _wait_settled(webhooks)
    time.sleep(0.3)
    assert len(receiver.received) == 3  # delivered once it said 200: never sent again


def test_nothing_is_lost_while_the_receiver_is_down(
    store: Store, webhooks: Webhooks, dispatcher: Dispatcher
) -> None:
    port = dead_port()
    subscription = subscribe(webhooks, f"http://127.0.0.1:{port}/hook", ("message.clicked",))
    sent = _clicks(store, 30)
    time.sleep(1.0)  # down for a second: several attempts fail
    (counts,) = webhooks.counts()
    assert counts.pending == 30 and "ConnectError" in (counts.last_error or "")
    with receiving(port) as receiver:
        got = receiver.wait_for(30, timeout=10)
        assert [r.headers["webhook-id"] for r in got[:30]] == [e.id for e in sent]  # in order
        for request in got:
            Webhook(subscription.secret).verify(request.body, request.headers)
        _wait_settled(webhooks)


def test_a_hanging_endpoint_does_not_hold_up_another(
    store: Store, webhooks: Webhooks, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    with receiving() as hanging:
        hanging.behaviour.hang = 3.0
        subscribe(webhooks, hanging.url, ("message.clicked",))
        subscribe(webhooks, receiver.url, ("message.clicked",))
        started = time.monotonic()
        _clicks(store, 5)
        receiver.wait_for(5, timeout=2.5)
        assert time.monotonic() - started < 1.0  # not after the other's 1 s timeout
        hanging.wait_for(1)


def test_rows_past_the_horizon_are_given_up_and_shown(
    store: Store, webhooks: Webhooks, receiver: Receiver
) -> None:
    receiver.behaviour.statuses = [500]
    receiver.behaviour.answer = b"down for maintenance\x1b[2J"
    subscribe(webhooks, receiver.url, ("message.clicked",))
    _clicks(store, 2)
    impatient = Dispatcher(webhooks, Sender(timeout=1.0), policy=RetryPolicy(horizon=0.0))
    try:
        impatient.run_once()
    finally:
        impatient.stop()
    (counts,) = webhooks.counts()
    assert (counts.pending, counts.failed) == (0, 2)
    assert counts.last_error == "HTTP 500: down for maintenance\\x1b[2J"


def test_the_test_event_reports_the_receivers_answer(
    webhooks: Webhooks, receiver: Receiver
) -> None:
    receiver.behaviour.statuses = [202]
    receiver.behaviour.answer = b"queued"
    subscription = subscribe(webhooks, receiver.url, ("message.replied",))
    answer = send_test(subscription)
    assert answer.ok and answer.describe() == "HTTP 202: queued"
    (got,) = receiver.wait_for(1)
    payload = Webhook(subscription.secret).verify(got.body, got.headers)
    assert payload["type"] == "webhook.test"
    assert got.headers["webhook-id"].startswith("test_")


def test_a_refused_test_event_says_why(webhooks: Webhooks) -> None:
    subscription = subscribe(webhooks, f"http://127.0.0.1:{dead_port()}/", ("*",))
    answer = send_test(subscription)
    assert not answer.ok and "ConnectError" in answer.describe()


def _wait_settled(webhooks: Webhooks, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.pending == 0 for c in webhooks.counts()):
            return
        time.sleep(0.02)
    raise AssertionError(f"still pending: {webhooks.counts()}")


def test_payload_bodies_are_json(
    store: Store, webhooks: Webhooks, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    subscribe(webhooks, receiver.url, ("*",))
    _clicks(store, 1)
    (got,) = receiver.wait_for(1)
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body)["data"]["link"] == {"index": 0, "url": None}


def test_a_database_that_is_away_is_said_once_and_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = Store(f"postgresql+psycopg://postgres@127.0.0.1:{dead_port()}/inkling")
    waiting = Dispatcher(Webhooks(away.database), poll=0.01)
    with caplog.at_level(logging.WARNING, logger="inkling.webhooks.dispatcher"):
        waiting.start()
        time.sleep(0.3)
        waiting.stop()
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith("webhooks: cannot read the outbox")
    away.close()
