"""``start_relay``: the SMTP relay, started beside ``inkling serve``.

It is given the outgoing half it shares with the sending API (:class:`Outbound`, built
once by the composition root) and its own options; it reads no settings.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inkling.errors import ConfigError
from inkling.mail.listener import Listener
from inkling.relay.access import Access
from inkling.relay.handler import RelayHandler
from inkling.relay.logins import LoginGuard, LoginLimits
from inkling.relay.outbound import NO_UPSTREAM, Outbound
from inkling.relay.session import RelaySMTP
from inkling.relay.tls import server_context

log = logging.getLogger(__name__)
#: How long stopping waits for deliveries under way.
DRAIN_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class RelayOptions:
    """How the relay listens and whom it lets in."""

    host: str
    port: int  # 0: any free port
    username: str | None = None
    password: str | None = None
    allow_plain_auth: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: Where a self-signed certificate is made when none is given.
    self_signed_dir: Path = Path("relay-tls")
    max_message_bytes: int = 25 * 1024 * 1024
    #: How many wrong passwords a connection and a client address may try.
    logins: LoginLimits = field(default_factory=LoginLimits)


@dataclass
class RelayHandle:
    """A running relay: where it listens, and how to stop it."""

    host: str
    port: int
    _listener: Listener

    def stop(self) -> None:
        """Stop accepting, let deliveries under way finish (up to 30 s), then close."""
        self._listener.stop()


def start_relay(outbound: Outbound, options: RelayOptions) -> RelayHandle:
    """Start the SMTP relay (port 0: a free port, see ``RelayHandle.port``).

    Deliveries a previous process left unsettled (it was killed mid-send) are settled
    first. Raises ConfigError when there is no upstream or the TLS pair cannot be used,
    and OSError if the address cannot be bound.
    """
    if outbound.upstream is None:
        raise ConfigError(NO_UPSTREAM)
    outbound.delivery.reconcile()
    hostname = outbound.hostname
    access = Access(options.username, options.password, allow_plain=options.allow_plain_auth)
    handler = RelayHandler(
        access=access,
        delivery=outbound.delivery,
        transactions=outbound.transactions,
        per_recipient=outbound.per_recipient,
    )
    tls = server_context(
        options.tls_cert,
        options.tls_key,
        self_signed_dir=options.self_signed_dir,
        hostname=hostname,
    )
    smtp_options: dict[str, Any] = {
        "hostname": hostname,
        "tls_context": tls,
        "data_size_limit": options.max_message_bytes,
        "enable_SMTPUTF8": True,
        "auth_require_tls": False,  # Access decides: TLS, loopback, or allowed plain
        "ident": "Inkling relay",
    }

    guard = LoginGuard(options.logins)

    def factory(loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        return RelaySMTP(handler, loop=loop, access=access, guard=guard, **smtp_options)

    async def drain() -> None:
        await handler.drain(DRAIN_SECONDS)

    listener = Listener(factory, options.host, options.port, on_stop=drain, name="inkling-relay")
    listener.start()
    log.info(
        "SMTP relay on %s:%d, forwarding to %r", options.host, listener.port, outbound.upstream
    )
    return RelayHandle(options.host, listener.port, listener)
