"""The relay's SMTP protocol: aiosmtpd's, telling the handler when a client goes away
(even mid-DATA), and limiting password guessing at AUTH (``logins.py``).

aiosmtpd answers a wrong password itself, at once. Here the authenticator only notes the
failure (``handled=True``: aiosmtpd says nothing), and :meth:`RelaySMTP.smtp_AUTH`
answers: ``535``, or ``421`` and the connection closed when this connection has used up
its tries. Each failure is logged with the user name escaped, never the password.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from inkling.relay.access import Access
from inkling.relay.logins import LoginGuard

log = logging.getLogger(__name__)
AUTH_FAILED = "535 5.7.8 Authentication credentials invalid"
CONNECTION_SPENT = "421 4.7.0 Too many failed logins on this connection; closing it"
ADDRESS_BLOCKED = "454 4.7.0 Too many failed logins from your address; try again later"
#: How much of a user name a log line shows.
LOGGED_NAME_CHARS = 64


class RelaySMTP(SMTP):
    """One client connection to the relay."""

    def __init__(self, handler: Any, *, access: Access, guard: LoginGuard, **options: Any):
        super().__init__(handler, authenticator=self._check_login, **options)
        self._access = access
        self._guard = guard
        self._failed_logins = 0
        self._wrong_login: bytes | None = None

    def connection_lost(self, error: Exception | None) -> None:
        session = self.session
        super().connection_lost(error)
        if session is not None:
            self.event_handler.connection_lost(session)

    async def smtp_AUTH(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's name)
        peer = _peer(self.session)
        async with self._guard.attempt(peer) as attempt:
            if attempt.refused:
                log.warning("relay AUTH from %s refused: too many failed logins from it", peer)
                await self.push(ADDRESS_BLOCKED)
                return
            self._wrong_login = None
            await super().smtp_AUTH(arg)
            login, self._wrong_login = self._wrong_login, None
            attempt.failed = login is not None
        if login is None:
            return
        self._failed_logins += 1
        log.warning(
            "failed relay login as %s from %s (%d on this connection; %d from this address "
            "in the last %g s)",
            escaped(login),
            peer,
            self._failed_logins,
            self._guard.recent_failures(peer),
            self._guard.limits.window,
        )
        if self._failed_logins >= self._guard.limits.per_connection:
            await self.push(CONNECTION_SPENT)
            assert self.transport is not None
            self.transport.close()
            return
        await self.push(AUTH_FAILED)

    def _check_login(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        result = self._access.authenticate(server, session, envelope, mechanism, data)
        if result.success or result.message is not None or not isinstance(data, LoginPassword):
            return result
        self._wrong_login = data.login
        return AuthResult(success=False, handled=True)  # smtp_AUTH answers


def escaped(login: bytes) -> str:
    """A user name as a log line may show it: cut short, control and invisible
    characters escaped (``repr``), so it cannot forge log lines or move a terminal."""
    text = login[:LOGGED_NAME_CHARS].decode("utf-8", "backslashreplace")
    return repr(text) + ("..." if len(login) > LOGGED_NAME_CHARS else "")


def _peer(session: Session | None) -> str:
    peer = session.peer if session is not None else None
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer)
