"""``start_relay``: the relay built from the settings and started beside ``inkling serve``.

This is the relay's composition root: every piece is made here from the settings and the
running Inkling's services, and handed down; nothing below reads settings.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP

from inkling.config import Settings
from inkling.relay.access import Access
from inkling.relay.handler import RelayHandler
from inkling.relay.listener import Listener
from inkling.relay.outbound import Outbound
from inkling.relay.tls import server_context
from inkling.relay.upstream import Upstream

if TYPE_CHECKING:  # only a type here: inkling.server builds the API, which imports the relay
    from inkling.services import Services

log = logging.getLogger(__name__)
#: How long stopping waits for deliveries under way.
DRAIN_SECONDS = 30.0


@dataclass
class RelayHandle:
    """A running relay: where it listens, and how to stop it."""

    host: str
    port: int
    _listener: Listener

    def stop(self) -> None:
        """Stop accepting, let deliveries under way finish (up to 30 s), then close."""
        self._listener.stop()


class _RelaySMTP(SMTP):
    """aiosmtpd's SMTP, telling the handler when a client goes away (even mid-DATA)."""

    def connection_lost(self, error: Exception | None) -> None:
        session = self.session
        super().connection_lost(error)
        if session is not None:
            self.event_handler.connection_lost(session)


def start_relay(services: Services, settings: Settings, *, host: str, port: int) -> RelayHandle:
    """Start the SMTP relay on ``host:port`` (0: a free port, see ``RelayHandle.port``).

    Raises ConfigError for settings the relay cannot work with and OSError if the address
    cannot be bound.
    """
    upstream = Upstream.from_url(settings.relay_upstream)  # the relay needs one: say so now
    outbound = Outbound.from_settings(settings, codec=services.codec, store=services.store)
    hostname = outbound.hostname
    password = settings.relay_password.get_secret_value() if settings.relay_password else None
    access = Access(settings.relay_username, password, allow_plain=settings.relay_allow_plain_auth)
    handler = RelayHandler(
        access=access,
        delivery=outbound.delivery,
        transactions=outbound.transactions,
        per_recipient=settings.relay_per_recipient,
    )
    tls = server_context(
        settings.relay_tls_cert,
        settings.relay_tls_key,
        data_dir=settings.data_dir,
        hostname=hostname,
    )
    smtp_options: dict[str, Any] = {
        "hostname": hostname,
        "tls_context": tls,
        "data_size_limit": settings.max_message_bytes,
        "enable_SMTPUTF8": True,
        "auth_require_tls": False,  # Access decides: TLS, loopback, or allowed plain
        "authenticator": access.authenticate,
        "ident": "Inkling relay",
    }

    def factory(loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        return _RelaySMTP(handler, loop=loop, **smtp_options)

    async def drain() -> None:
        await handler.drain(DRAIN_SECONDS)

    listener = Listener(factory, host, port, on_stop=drain, name="inkling-relay")
    listener.start()
    if settings.workflows and not settings.return_domain:
        receipts = [name for name, policy in settings.workflows.items() if policy.read_receipt]
        if receipts:
            log.warning("workflows %s ask for read receipts, but no return_domain is set", receipts)
    log.info("SMTP relay on %s:%d, forwarding to %r", host, listener.port, upstream)
    return RelayHandle(host, listener.port, listener)
