"""Subscribing and testing: what ``inkling webhooks add`` and ``test`` do.

A subscription names an http(s) URL and the event types it wants (:data:`EVENT_TYPES`, or
``*`` for all); it gets an id and a fresh signing secret, returned once.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from inkling.errors import InklingError
from inkling.store.webhooks import ALL_TYPES, EVENT_TYPES, Subscription, Webhooks
from inkling.webhooks.payloads import encode, test_payload
from inkling.webhooks.sending import Answer, Sender
from inkling.webhooks.signing import new_secret

ID_PREFIX = "wh_"


def parse_types(text: str) -> tuple[str, ...]:
    """``message.clicked,message.replied`` (or ``*``) as types, checked against the
    vocabulary; InklingError naming the first unknown one."""
    types = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    if not types:
        raise InklingError("--events needs at least one event type, or * for all")
    for name in types:
        if name != ALL_TYPES and name not in EVENT_TYPES:
            known = ", ".join(EVENT_TYPES)
            raise InklingError(f"--events: unknown event type {name!r}; known: {known}, or *")
    return (ALL_TYPES,) if ALL_TYPES in types else types


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL; InklingError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InklingError(f"the endpoint must be an http:// or https:// URL, not {url!r}")
    return url.strip()


def subscribe(webhooks: Webhooks, url: str, types: tuple[str, ...]) -> Subscription:
    """Store a new subscription with a fresh id and secret, and return it (the only time
    the secret is handed out)."""
    subscription = Subscription(
        id=ID_PREFIX + secrets.token_hex(8),
        url=check_url(url),
        types=types,
        secret=new_secret(),
        created_at=time.time(),
    )
    webhooks.add(subscription)
    return subscription


def send_test(subscription: Subscription, sender: Sender | None = None) -> Answer:
    """Send a ``webhook.test`` event to ``subscription`` now, past the outbox, and return
    the receiver's answer."""
    now = time.time()
    event_id = "test_" + secrets.token_hex(12)
    body = encode(test_payload(subscription.id, now))
    own = sender is None
    sending = sender or Sender()
    try:
        return sending.send(subscription.url, subscription.secret, event_id, body, now)
    finally:
        if own:
            sending.close()
