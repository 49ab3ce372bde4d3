"""What a webhook (and the live feed) says about an event: ``{"type", "timestamp",
"data"}``, the envelope the Standard Webhooks specification recommends (its "Payload
structure" section).

``data`` holds the event as stored: its id, the message (Message-ID and Inkling id), the
ticket, the recipient(s) when known, kind, time, verdict, agent, reasons, a click's link,
and what a returned mail said. Never an IP address, whole or truncated.
"""

from __future__ import annotations

import json
from typing import Any

from inkling.store.webhooks import Due, StoredEvent
from inkling.times import iso

TEST_TYPE = "webhook.test"


def event_payload(event_type: str, event: StoredEvent) -> dict[str, Any]:
    """The envelope announcing a stored event."""
    return {"type": event_type, "timestamp": iso(event.ts), "data": event_data(event)}


def event_data(event: StoredEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": event.id,
        "message": {"message_id": event.message_id, "id": event.message},
        "ticket": event.ticket,
        "recipient": event.recipient,
        "kind": event.kind,
        "ts": iso(event.ts),
        "verdict": event.verdict,
        "agent": event.agent,
        "reasons": event.reasons,
    }
    if event.link is not None:
        data["link"] = {"index": event.link, "url": event.link_url}
    if event.details:
        data["details"] = event.details
    return data


def due_body(due: Due) -> str:
    """The body to send for an outbox row: as first sent (or as published), else built now
    from its event (an event gone since, erased say, is announced by its id alone)."""
    if due.payload is not None:
        return due.payload
    if due.event is None:
        data = {"id": due.event_id}
        return encode({"type": due.type, "timestamp": iso(due.created_at), "data": data})
    return encode(event_payload(due.type, due.event))


def test_payload(subscription: str, now: float) -> dict[str, Any]:
    return {
        "type": TEST_TYPE,
        "timestamp": iso(now),
        "data": {"subscription": subscription, "note": "a test from inkling webhooks test"},
    }


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
