"""Is a webhook payload really from the provider? SendGrid's, Mailgun's and Postmark's
checks (Amazon SNS's is in ``sns.py``). Each raises :class:`SignatureError` saying what did
not hold; nothing of a payload that fails is recorded.

- SendGrid, Signed Event Webhook: ECDSA (P-256, SHA-256) over the timestamp header's value
  followed by the raw body, with the public key shown in SendGrid's settings (base64 DER).
  Headers ``X-Twilio-Email-Event-Webhook-Signature`` (base64 DER signature) and
  ``X-Twilio-Email-Event-Webhook-Timestamp``. Source: "Getting Started with the Event
  Webhook Security Features", twilio.com/docs/sendgrid/for-developers/tracking-events.
- Mailgun: HMAC-SHA256 of ``timestamp`` + ``token`` with the webhook signing key, hex, in
  the body's ``signature`` object. Source: documentation.mailgun.com, "Securing Webhooks".
- Postmark: HTTP basic authentication with the username and password put in the webhook's
  URL. Source: postmarkapp.com/developer/webhooks/webhooks-overview ("Protecting your
  webhook").

Replays are harmless: an event imported twice is recorded once (its id comes from the
provider's event id or the payload).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from inkling.errors import SignatureError

SENDGRID_SIGNATURE = "x-twilio-email-event-webhook-signature"
SENDGRID_TIMESTAMP = "x-twilio-email-event-webhook-timestamp"


def sendgrid_key(text: str) -> ec.EllipticCurvePublicKey:
    """SendGrid's verification key as its settings page shows it (base64 of the DER
    public key), or PEM; ValueError if it is neither, or not an elliptic-curve key."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        key = load_pem_public_key(stripped.encode())
    else:
        key = load_der_public_key(base64.b64decode(stripped, validate=True))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve public key")
    return key


def verify_sendgrid(
    key: ec.EllipticCurvePublicKey, headers: Mapping[str, str], body: bytes
) -> None:
    signature = headers.get(SENDGRID_SIGNATURE)
    timestamp = headers.get(SENDGRID_TIMESTAMP)
    if not signature or not timestamp:
        raise SignatureError(f"no {SENDGRID_SIGNATURE} or {SENDGRID_TIMESTAMP} header")
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise SignatureError("the SendGrid signature does not verify") from exc


def verify_mailgun(signing_key: str, payload: Any) -> None:
    """``payload`` is the decoded body: ``{"signature": {...}, "event-data": {...}}``."""
    block = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(block, dict):
        raise SignatureError("no 'signature' object in the Mailgun payload")
    timestamp, token, given = (block.get(k) for k in ("timestamp", "token", "signature"))
    if not all(isinstance(v, str) and v for v in (timestamp, token, given)):
        raise SignatureError("the Mailgun signature needs timestamp, token and signature")
    assert isinstance(timestamp, str) and isinstance(token, str) and isinstance(given, str)
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureError("the Mailgun signature does not verify")


def verify_basic(username: str, password: str, authorization: str | None) -> None:
    """Postmark's basic authentication (``Authorization: Basic base64(user:password)``)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise SignatureError("no basic authentication: Postmark's webhook URL needs user:password@")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise SignatureError("the basic authentication is not base64") from exc
    expected = f"{username}:{password}".encode()
    if not hmac.compare_digest(given, expected):
        raise SignatureError("the Postmark username or password is wrong")
