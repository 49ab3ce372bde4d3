"""DKIM through the relay: re-signed after instrumenting, or forwarded untouched without a
key; verified with dkimpy against the test's own public key, never with a broken one."""

from __future__ import annotations

import base64
import re
import smtplib
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from inkling.relay.copies import NO_KEY
from tests.relay.conftest import RelayFactory, Sink
from tests.relay.messages import support_reply

SIGNED = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]
ANN, BOB = "ann@customer.example", "bob@customer.example"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _dns(key: rsa.RSAPrivateKey, selector: str) -> object:
    """A dnsfunc for dkim.verify that knows one selector of acme.example."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        return (
            record if name.rstrip(b".") == f"{selector}._domainkey.acme.example".encode() else None
        )

    return lookup


def _signed(key: rsa.RSAPrivateKey) -> bytes:
    message = support_reply()
    header = dkim.sign(
        message, b"helpdesk", b"acme.example", _pem(key),
        canonicalize=(b"relaxed", b"simple"), include_headers=SIGNED,
    )  # fmt: skip
    signed: bytes = header + message
    assert dkim.verify(signed, dnsfunc=_dns(key, "helpdesk"))
    return signed


def _send(port: int, message: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("support@acme.example", [ANN, BOB], message)


def test_signed_message_is_instrumented_and_signed_again(
    relay_factory: RelayFactory, sink: Sink, key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(_pem(key))
    relay = relay_factory(
        dkim_domain="acme.example", dkim_selector="inkling", dkim_key_file=key_file
    )
    _send(relay.port, _signed(key))
    copies = sink.wait_for(2)
    assert len(copies) == 2
    for copy in copies:
        assert b"/t/c/" in copy.content  # instrumented
        assert dkim.verify(copy.content, dnsfunc=_dns(key, "inkling"))
        (signature,) = re.findall(rb"^DKIM-Signature:.*?(?=^\S)", copy.content, re.M | re.S)
        assert b"s=inkling" in signature and b"c=relaxed/simple" in signature
        covered = re.search(rb"h=([^;]+);", re.sub(rb"\s+", b"", signature))
        assert covered is not None and covered.group(1).lower().split(b":") == SIGNED
    records = relay.services.store.messages.copies_of("<reply-1@acme.example>")
    assert [r.untracked for r in records] == [None, None]


def test_signed_message_without_a_key_goes_out_untouched(
    relay_factory: RelayFactory,
    sink: Sink,
    key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay = relay_factory()
    original = _signed(key)
    _send(relay.port, original)
    copies = sink.wait_for(2)
    assert [c.content for c in copies] == [original, original]
    assert all(dkim.verify(c.content, dnsfunc=_dns(key, "helpdesk")) for c in copies)
    records = relay.services.store.messages.copies_of("<reply-1@acme.example>")
    assert [r.untracked for r in records] == [NO_KEY, NO_KEY]
    assert NO_KEY in caplog.text
