"""DKIM: find the signatures a message came with, and sign a changed message again.

Instrumenting changes the body, so an original signature no longer verifies; a receiver
would treat the message as forged. With the team's key the relay removes the old
signatures and signs the new message over the same header fields, with the same
canonicalisation; it then verifies its own signature before anything is sent, so a broken
signature never leaves. Without a key, the caller forwards the message untouched.

Only RSA keys (rsa-sha256), the kind every receiver verifies.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from inkling.errors import ConfigError, RelayError
from inkling.mail.headers import header_fields, line_ending, remove_fields

SIGNATURE_HEADER = "dkim-signature"
_DEFAULT_HEADERS = [b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"reply-to"]


@dataclass(frozen=True, slots=True)
class Signature:
    """What an existing DKIM-Signature covered: its ``h=`` fields and ``c=``."""

    headers: list[bytes]
    canonicalize: tuple[bytes, bytes]


def signatures(raw: bytes) -> list[Signature]:
    """The DKIM signatures in the header of ``raw``, topmost first."""
    return [_parse(field.value) for field in header_fields(raw) if field.name == SIGNATURE_HEADER]


def _parse(value: bytes) -> Signature:
    tags = {}
    for item in re.sub(rb"\s+", b"", value).split(b";"):
        name, _, content = item.partition(b"=")
        tags[name.lower()] = content
    headers = [h.lower() for h in tags.get(b"h", b"").split(b":") if h]
    header_c, _, body_c = tags.get(b"c", b"simple/simple").lower().partition(b"/")
    return Signature(headers or list(_DEFAULT_HEADERS), (header_c, body_c or b"simple"))


class Signer:
    """Signs with one key as ``selector._domainkey.domain``."""

    def __init__(self, domain: str, selector: str, key: rsa.RSAPrivateKey) -> None:
        self.domain = domain
        self.selector = selector
        self._private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        #: The TXT record to publish at selector._domainkey.domain.
        self.dns_record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)

    @classmethod
    def from_file(cls, domain: str, selector: str, key_file: Path) -> Signer:
        """The signer for a PEM key file; ConfigError naming the setting if unusable."""
        try:
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"bad setting INKLING_DKIM_KEY_FILE: cannot read a PEM private key from "
                f"{key_file}: {exc}"
            ) from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("bad setting INKLING_DKIM_KEY_FILE: the key must be an RSA key")
        return cls(domain, selector, key)

    def resign(self, raw: bytes, originals: list[Signature]) -> bytes:
        """``raw`` without its old signatures and with a fresh one over the fields the
        originals covered (the topmost signature's canonicalisation). Raises RelayError if
        the new signature does not verify."""
        unsigned = remove_fields(raw, {SIGNATURE_HEADER})
        covered: list[bytes] = []
        for signature in originals:
            covered.extend(h for h in signature.headers if h not in covered)
        if b"from" not in covered:
            covered.insert(0, b"from")
        canonicalize = originals[0].canonicalize if originals else (b"relaxed", b"relaxed")
        try:
            header = dkim.sign(
                unsigned,
                self.selector.encode(),
                self.domain.encode(),
                self._private_pem,
                canonicalize=canonicalize,
                include_headers=covered,
                linesep=line_ending(raw),
            )
        except dkim.DKIMException as exc:
            raise RelayError(f"DKIM signing failed: {exc}") from exc
        signed: bytes = header + unsigned
        if not dkim.verify(signed, dnsfunc=self._own_record):
            raise RelayError("DKIM: the new signature did not verify; not sending it")
        return signed

    def _own_record(self, name: bytes | str, timeout: float = 5) -> bytes:
        return self.dns_record
