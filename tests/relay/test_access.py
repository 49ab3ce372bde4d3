"""Who may relay, judged on real aiosmtpd sessions from loopback and from elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import Envelope, LoginPassword, Session

from inkling.relay.access import (
    AUTH_REQUIRED,
    ENCRYPTION_REQUIRED,
    LOOPBACK_ONLY,
    Access,
)

EHLO = ["250-relay", "250-STARTTLS", "250-AUTH LOGIN PLAIN", "250 HELP"]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _session(loop: asyncio.AbstractEventLoop, peer: str, *, tls: bool = False) -> Session:
    session = Session(loop)
    # aiosmtpd annotates Session.peer as str, but stores transport.get_extra_info("peername"),
    # the (host, port) tuple asyncio gives, which is what this stands in for
    session.peer = (peer, 40000)  # type: ignore[assignment]
    session.ssl = {"cipher": "TLS_AES_256_GCM_SHA384"} if tls else None
    return session


def _login(access: Access, session: Session, password: bytes = b"pw") -> object:
    result = access.authenticate(None, session, Envelope(), "PLAIN", LoginPassword(b"hd", password))
    return result.message if not result.success else True


def test_auth_needs_tls_except_on_loopback(loop: asyncio.AbstractEventLoop) -> None:
    access = Access("hd", "pw", allow_plain=False)
    remote, local = _session(loop, "192.0.2.7"), _session(loop, "127.0.0.1")
    assert "250-AUTH LOGIN PLAIN" not in access.ehlo(remote, EHLO)
    assert _login(access, remote) == ENCRYPTION_REQUIRED
    assert "250-AUTH LOGIN PLAIN" in access.ehlo(local, EHLO)
    assert _login(access, local) is True
    encrypted = _session(loop, "192.0.2.7", tls=True)
    assert _login(access, encrypted) is True
    assert _login(access, encrypted, b"nope") is None
    assert access.refuse_mail(encrypted) == AUTH_REQUIRED
    encrypted.authenticated = True
    assert access.refuse_mail(encrypted) is None


def test_plain_auth_can_be_allowed(loop: asyncio.AbstractEventLoop) -> None:
    access = Access("hd", "pw", allow_plain=True)
    assert _login(access, _session(loop, "2001:db8::1")) is True


def test_without_credentials_only_loopback_may_relay(loop: asyncio.AbstractEventLoop) -> None:
    access = Access(None, None, allow_plain=False)
    assert access.refuse_mail(_session(loop, "::ffff:127.0.0.1")) is None
    assert access.refuse_mail(_session(loop, "::1")) is None
    assert access.refuse_mail(_session(loop, "198.51.100.4")) == LOOPBACK_ONLY
    assert "250-AUTH LOGIN PLAIN" not in access.ehlo(_session(loop, "127.0.0.1"), EHLO)
