"""Amazon SNS messages (how SES publishes its events), verified before anything is read.

SNS signs each message with RSA: SignatureVersion 1 over SHA-1, 2 over SHA-256, the
string to sign being named fields as ``name\\nvalue\\n`` in a fixed order. The signing
certificate is fetched from ``SigningCertURL``, which must be https on an
``amazonaws.com`` host: any other URL is refused before anything is fetched, or a forger
could sign with a certificate of their own. Certificates are cached by URL. Only topics
the operator listed are accepted. Source: Amazon SNS Developer Guide, "Verifying the
signatures of Amazon SNS messages" and "Parsing message formats"
(https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from inkling.errors import SignatureError

#: The fields signed, in the order signed, by message type.
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_FIELDS["UnsubscribeConfirmation"] = SIGNED_FIELDS["SubscriptionConfirmation"]
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_MAX_CERTS = 32
#: Fetches a URL's body (a certificate, a subscription confirmation).
Fetch = Callable[[str], bytes]


def check_amazon_url(url: str) -> None:
    """Refuse a URL that is not https on an amazonaws.com host (no user, no odd port)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if (
        parts.scheme != "https"
        or not host.endswith(".amazonaws.com")
        or parts.username is not None
        or parts.port not in (None, 443)
    ):
        raise SignatureError(f"refusing to fetch {url[:200]!r}: not an https amazonaws.com URL")


def fetch_from_amazon(url: str) -> bytes:
    """GET ``url`` after :func:`check_amazon_url`; no redirects (they could lead away)."""
    import httpx

    check_amazon_url(url)
    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=False)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise SignatureError(f"cannot fetch {url[:200]}: {exc}") from exc
    return response.content


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    kind = message.get("Type")
    fields = SIGNED_FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise SignatureError(f"not an SNS message type: {str(kind)[:40]!r}")
    parts: list[str] = []
    for name in fields:
        value = message.get(name)
        if value is None and name == "Subject":
            continue  # a notification without a subject leaves it out
        if not isinstance(value, str):
            raise SignatureError(f"the SNS message has no {name}")
        parts += [name, value]
    return ("\n".join(parts) + "\n").encode()


class SnsVerifier:
    """Verifies SNS messages of the ``topics`` listed, fetching certificates with ``fetch``
    (tests hand in their own; the default fetches only from amazonaws.com)."""

    def __init__(self, topics: Sequence[str], fetch: Fetch = fetch_from_amazon) -> None:
        self._topics = frozenset(topics)
        self._fetch = fetch
        self._certs: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def verify(self, message: Any) -> Mapping[str, Any]:
        """``message`` (the decoded body) if it is a genuine SNS message of a listed topic."""
        if not isinstance(message, dict):
            raise SignatureError("not an SNS message: a JSON object was expected")
        topic = message.get("TopicArn")
        if topic not in self._topics:
            raise SignatureError(
                f"the SNS topic {str(topic)[:200]!r} is not one of [providers.ses] topic_arns"
            )
        algorithm = _HASHES.get(str(message.get("SignatureVersion")))
        if algorithm is None:
            raise SignatureError("SignatureVersion must be 1 or 2")
        url = message.get("SigningCertURL")
        if not isinstance(url, str):
            raise SignatureError("the SNS message has no SigningCertURL")
        check_amazon_url(url)
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
            self._key(url).verify(
                signature, string_to_sign(message), padding.PKCS1v15(), algorithm()
            )
        except (binascii.Error, InvalidSignature) as exc:
            raise SignatureError("the SNS signature does not verify") from exc
        return message

    def confirm(self, message: Mapping[str, Any]) -> None:
        """Confirm a subscription (verified first) by fetching its SubscribeURL."""
        url = message.get("SubscribeURL")
        if not isinstance(url, str):
            raise SignatureError("the subscription confirmation has no SubscribeURL")
        check_amazon_url(url)
        self._fetch(url)

    def _key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            key = self._certs.get(url)
        if key is not None:
            return key
        try:
            certificate = x509.load_pem_x509_certificate(self._fetch(url))
        except ValueError as exc:
            raise SignatureError(f"the certificate at {url[:200]} cannot be read") from exc
        found = certificate.public_key()
        if not isinstance(found, rsa.RSAPublicKey):
            raise SignatureError("the SNS signing certificate holds no RSA key")
        with self._lock:
            if len(self._certs) >= _MAX_CERTS:
                self._certs.pop(next(iter(self._certs)))
            self._certs[url] = found
        return found
