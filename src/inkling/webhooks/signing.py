"""Secrets and signatures, per the Standard Webhooks specification.

A subscription's secret is ``whsec_`` and 32 random bytes in base64, made once at
``inkling webhooks add`` and shown once. Each request carries ``webhook-id`` (the event's
id: the receiver's idempotency key), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,`` and the HMAC-SHA256 of ``id.timestamp.body``), made by the
``standardwebhooks`` package itself, so a receiver verifying with it agrees byte for byte.
"""

from __future__ import annotations

import base64
import secrets
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from standardwebhooks import Webhook

#: The specification's names, with their sources: ``standard.toml``.
STANDARD = tomllib.loads((Path(__file__).parent / "standard.toml").read_text(encoding="utf-8"))
SECRET_PREFIX: str = STANDARD["secret"]["prefix"]
SECRET_BYTES: int = STANDARD["secret"]["bytes"]
_HEADERS: dict[str, str] = STANDARD["headers"]


def new_secret() -> str:
    """A fresh signing secret, ``whsec_...``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signed_headers(secret: str, event_id: str, body: str, now: float) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent as ``event_id`` at ``now``."""
    moment = datetime.fromtimestamp(int(now), UTC)
    signature = Webhook(secret).sign(msg_id=event_id, timestamp=moment, data=body)
    return {
        _HEADERS["id"]: event_id,
        _HEADERS["timestamp"]: str(int(now)),
        _HEADERS["signature"]: signature,
        "content-type": "application/json",
    }
