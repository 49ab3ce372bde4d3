"""Webhooks: subscriptions, an outbox, signed delivery with retries; the live feed's cursor.

The store writes the outbox in the events' own transaction (``inkling.store.webhooks``);
the :class:`Dispatcher` delivers it on threads of its own, signed per the Standard Webhooks
specification, retrying with backoff. Other parts of Inkling announce their own events
with :func:`publish`. See ``docs/webhooks.md``.
"""

from __future__ import annotations

import time
from typing import Any

from inkling.store.webhooks import (
    ALL_TYPES,
    EVENT_TYPES,
    TYPE_OF_KIND,
    Subscription,
    SubscriptionCounts,
    Webhooks,
)
from inkling.webhooks.dispatcher import Dispatcher
from inkling.webhooks.feed import FeedCursor
from inkling.webhooks.payloads import event_payload
from inkling.webhooks.retries import RetryPolicy
from inkling.webhooks.sending import Answer, Sender
from inkling.webhooks.signing import new_secret, signed_headers
from inkling.webhooks.subscriptions import check_url, parse_types, send_test, subscribe


def publish(webhooks: Webhooks, event_type: str, event_id: str, data: dict[str, Any]) -> int:
    """Announce an event that is not a stored event (``recommendation.due``): ``data``
    goes out as the webhook's ``data``, under ``event_id`` (the receiver's idempotency
    key), to every subscription to ``event_type``; the deliveries queued."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    return webhooks.publish(event_type, event_id, data, time.time())


__all__ = [
    "ALL_TYPES",
    "EVENT_TYPES",
    "TYPE_OF_KIND",
    "Answer",
    "Dispatcher",
    "FeedCursor",
    "RetryPolicy",
    "Sender",
    "Subscription",
    "SubscriptionCounts",
    "Webhooks",
    "check_url",
    "event_payload",
    "new_secret",
    "parse_types",
    "publish",
    "send_test",
    "signed_headers",
    "subscribe",
]
