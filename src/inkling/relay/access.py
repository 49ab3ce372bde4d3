"""Who may relay: a login when one is configured, else this machine only.

A password crosses the network only inside TLS: AUTH is neither offered nor accepted
before STARTTLS, except from loopback (a helpdesk on the same host) or when
``relay_allow_plain_auth`` says the network is trusted.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

AUTH_REQUIRED = "530 5.7.0 Authentication required"
LOOPBACK_ONLY = (
    "550 5.7.1 Inkling relays only for this machine until relay_username and relay_password are set"
)
ENCRYPTION_REQUIRED = "538 5.7.11 Encryption required: use STARTTLS before AUTH"
NO_AUTH = "503 5.5.1 AUTH is not enabled on this relay"


class Access:
    """Decides AUTH and MAIL for one relay's settings."""

    def __init__(self, username: str | None, password: str | None, *, allow_plain: bool):
        self._credentials = (
            (username.encode(), password.encode()) if username and password else None
        )
        self._allow_plain = allow_plain

    def ehlo(self, session: Session, responses: list[str]) -> list[str]:
        """The EHLO lines, offering AUTH only where it may be used."""
        if self._auth_allowed(session):
            return responses
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """aiosmtpd's authenticator: checks the login in constant time."""
        if self._credentials is None:
            return AuthResult(success=False, handled=False, message=NO_AUTH)
        if not self._auth_allowed(session):
            return AuthResult(success=False, handled=False, message=ENCRYPTION_REQUIRED)
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self._credentials
        good_user = hmac.compare_digest(data.login, user)
        good_password = hmac.compare_digest(data.password, password)
        return AuthResult(success=good_user and good_password, handled=False)

    def refuse_mail(self, session: Session) -> str | None:
        """Why MAIL is refused to this session, or None if it may relay."""
        if self._credentials is None:
            return None if _loopback(session) else LOOPBACK_ONLY
        return None if session.authenticated else AUTH_REQUIRED

    def _auth_allowed(self, session: Session) -> bool:
        if self._credentials is None:
            return False
        return session.ssl is not None or self._allow_plain or _loopback(session)


def _loopback(session: Session) -> bool:
    peer = session.peer
    host = peer[0] if isinstance(peer, tuple) and peer else str(peer)
    try:
        address = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
