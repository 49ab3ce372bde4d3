"""Webhook fixtures: the webhook tables of the test's store, emptied first (the shared
PostgreSQL database lives for the whole session), and a receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from inkling.store import Store
from inkling.store.schema import webhook_outbox, webhook_subscriptions
from inkling.store.webhooks import Webhooks
from inkling.webhooks import Dispatcher, RetryPolicy, Sender
from tests.webhooks.receiver import Receiver, receiving


@pytest.fixture
def webhooks(store: Store) -> Iterator[Webhooks]:
    """The store's webhooks, empty before and after (no subscription of these tests makes
    other tests' loads write an outbox)."""
    store.database.ensure_schema()
    _empty(store)
    yield Webhooks(store.database)
    _empty(store)


def _empty(store: Store) -> None:
    with store.database.engine.begin() as connection:
        connection.execute(delete(webhook_outbox))
        connection.execute(delete(webhook_subscriptions))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


#: Retries within a test's patience: 0.05 s doubling to at most 0.2 s.
QUICK = RetryPolicy(base=0.05, ceiling=0.2, horizon=3600.0)


@pytest.fixture
def dispatcher(webhooks: Webhooks) -> Iterator[Dispatcher]:
    """The dispatcher delivering the test's outbox, quickly."""
    running = Dispatcher(webhooks, Sender(timeout=1.0), policy=QUICK, poll=0.02)
    running.start()
    yield running
    running.stop()
