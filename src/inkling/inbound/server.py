"""``start_inbound``: the MX of the return domain, handing each message to ``deliver``.

What customers' mail systems send back (bounces to ``bounces+TOKEN@``, read receipts to
``receipts+TOKEN@``, auto-replies) arrives here by SMTP. This server only receives: it
decides nothing about what a message means, it hands the exact bytes and the envelope
recipients to ``deliver`` and answers the sender with what ``deliver`` made of it.

Rules, and why:

* RCPT is accepted for any local part at exactly ``return_domain`` (case ignored), and for
  the bare ``postmaster`` RFC 5321 requires; everything else gets ``550 5.7.1 relaying
  denied``. Subdomains are refused: the relay only ever writes addresses at the domain
  itself, and an MX that takes less gives spammers less to aim at.
* The null sender ``<>`` is accepted: it is how every bounce and receipt arrives.
* No AUTH and no STARTTLS: nobody logs in to an MX, and refusing RCPT outside the domain is
  what keeps it from being an open relay.
* ``deliver`` runs in a worker thread, so a slow database stalls one sender, not the loop.
  250 is answered only after it returned; if it raised, ``451 4.3.0`` asks the sender to
  try again later, so a message is never acknowledged and then lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session

from inkling.mail.listener import Listener

log = logging.getLogger(__name__)

#: Receives one message: its bytes exactly as sent, and the envelope recipients.
Deliver = Callable[[bytes, list[str]], object]  # what it returns is ignored

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
#: How long stopping waits for deliveries under way before closing connections.
DRAIN_SECONDS = 30.0
RELAYING_DENIED = "550 5.7.1 relaying denied"
TRY_LATER = "451 4.3.0 Inkling could not take the message now; try again later"
ACCEPTED = "250 2.0.0 OK"


@dataclass
class InboundHandle:
    """A running inbound server: where it listens, and how to stop it."""

    host: str
    port: int
    _listener: Listener

    def stop(self) -> None:
        """Stop accepting, let deliveries under way finish (up to 30 s), then close."""
        self._listener.stop()


class InboundHandler:
    """The aiosmtpd hooks of the inbound MX: RCPT (who may receive) and DATA (deliver)."""

    def __init__(self, deliver: Deliver, return_domain: str) -> None:
        self._deliver = deliver
        self._domain = return_domain.lower().rstrip(".")
        self._running: set[asyncio.Future[object]] = set()

    def accepts(self, address: str) -> bool:
        """Whether mail for ``address`` is ours to receive (see the module's rules)."""
        local, at, domain = address.rpartition("@")
        if not at:
            return address.lower() == "postmaster"
        return bool(local) and domain.lower().rstrip(".") == self._domain

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.accepts(address):
            return RELAYING_DENIED
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content
        if raw is None:  # aiosmtpd always sets it once DATA is complete
            return TRY_LATER
        recipients = list(envelope.rcpt_tos)
        future = asyncio.get_running_loop().run_in_executor(None, self._deliver, raw, recipients)
        self._running.add(future)
        future.add_done_callback(self._finished)
        try:
            # shielded: a client that hangs up must not hide the outcome from drain()
            await asyncio.shield(future)
        except Exception:
            log.exception("delivering an inbound message from %r failed", envelope.mail_from)
            return TRY_LATER
        return ACCEPTED

    def _finished(self, future: asyncio.Future[object]) -> None:
        self._running.discard(future)
        if not future.cancelled():
            future.exception()  # retrieved even when the client hung up before the answer

    async def drain(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds) for the deliveries under way to finish."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)


class _InboundSMTP(SMTP):
    """aiosmtpd's SMTP without AUTH: an MX has no logins to offer."""

    async def smtp_AUTH(self, arg: str) -> None:  # noqa: N802 (aiosmtpd command)
        await self.push("502 5.5.1 AUTH not supported here")


def start_inbound(
    deliver: Deliver,
    *,
    host: str,
    port: int,
    return_domain: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    hostname: str | None = None,
) -> InboundHandle:
    """Start the inbound MX on ``host:port`` (0: a free port, see ``InboundHandle.port``).

    ``max_bytes`` (``settings.max_message_bytes``) is advertised as SIZE and enforced with
    ``552``. ``hostname`` is the name in the greeting (default: the return domain). Raises
    ValueError without a return domain and OSError if the address cannot be bound.
    """
    if not return_domain:
        raise ValueError("the inbound server needs a return domain")
    handler = InboundHandler(deliver, return_domain)
    name = hostname or return_domain

    def factory(loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        return _InboundSMTP(
            handler,
            loop=loop,
            hostname=name,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            ident="Inkling inbound",
        )

    async def drain() -> None:
        await handler.drain(DRAIN_SECONDS)

    listener = Listener(factory, host, port, on_stop=drain, name="inkling-inbound")
    listener.start()
    log.info("inbound SMTP for %s on %s:%d", return_domain, host, listener.port)
    return InboundHandle(host, listener.port, listener)
