"""The demo's mail as lines of the ``inkling`` events-import format (DESIGN.md, "Events
import"): what an email service provider's export or a helpdesk's log would hold, and what
``inkling events import`` reads. Every line names its copy's recipient, so that a message
copied to two people attaches each event to the right copy.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from inkling.demo.devices import Hit

Line = dict[str, Any]


def sent(
    message: str,
    recipient: str,
    ts: float,
    *,
    ticket: str,
    subject: str,
    workflow: str,
    links: list[str],
) -> Line:
    return {
        "type": "sent",
        "message": message,
        "recipient": recipient,
        "ts": round(ts, 3),
        "ticket": ticket,
        "subject": subject,
        "workflow": workflow,
        "links": links,
    }


def hit(message: str, recipient: str, found: Hit) -> Line:
    line: Line = {
        "type": found.kind,
        "message": message,
        "recipient": recipient,
        "ts": round(found.ts, 3),
        "ip": found.ip,
        "ua": found.ua,
    }
    if found.link is not None:
        line["link"] = found.link
    if found.headers:
        line["headers"] = found.headers
    return line


def delivered(message: str, recipient: str, ts: float) -> Line:
    """The receiving server accepted the copy (an ESP reports each delivery)."""
    return {"type": "delivered", "message": message, "recipient": recipient, "ts": round(ts, 3)}


def reply(message: str, recipient: str, ts: float) -> Line:
    return {"type": "reply", "message": message, "recipient": recipient, "ts": round(ts, 3)}


def autoreply(message: str, recipient: str, ts: float, until: date) -> Line:
    return {
        "type": "autoreply",
        "message": message,
        "recipient": recipient,
        "ts": round(ts, 3),
        "until": until.isoformat(),
    }


def bounce(message: str, recipient: str, ts: float, status: str, reason: str) -> Line:
    return {
        "type": "bounce",
        "message": message,
        "recipient": recipient,
        "ts": round(ts, 3),
        "status": status,
        "reason": reason,
    }
