"""The aiosmtpd handler: the SMTP conversation with the helpdesk, mirrored upstream.

It implements only the hooks the relay needs. MAIL checks access and starts an envelope;
each RCPT is passed upstream at once and answered with the upstream's answer; DATA hands
the message to :class:`Delivery` and answers with its verdict. A client that goes away
before the end of DATA leaves nothing behind: its upstream transactions are abandoned
(nothing sent) and nothing was registered. Once DATA is complete, the delivery runs to
its end even if the client disconnects, so the store and the upstream always agree.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiosmtpd.smtp import Envelope, Session

from inkling.relay.access import Access
from inkling.relay.delivery import Delivery
from inkling.relay.envelope import OpenEnvelope, TransactionFactory
from inkling.relay.upstream import Reply

log = logging.getLogger(__name__)
_PASSED_ON = ("BODY=", "SMTPUTF8")
INTERNAL_ERROR = Reply(451, "4.3.0 Inkling could not relay the message; try again later")

#: Makes the upstream-transaction factory for an envelope from its (client) sender and
#: the MAIL options to pass on.
EnvelopeTransactions = Callable[[str, list[str]], TransactionFactory]


class RelayHandler:
    """One per relay; keeps the open envelope of each client session."""

    def __init__(
        self,
        *,
        access: Access,
        delivery: Delivery,
        transactions: EnvelopeTransactions,
        per_recipient: bool,
    ) -> None:
        self._access = access
        self._delivery = delivery
        self._transactions = transactions
        self._per_recipient = per_recipient
        self._envelopes: dict[Session, OpenEnvelope] = {}
        self._tasks: set[asyncio.Task[object]] = set()

    # -- aiosmtpd hooks --------------------------------------------------------------------

    async def handle_EHLO(  # noqa: N802 (aiosmtpd hook)
        self,
        server: object,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return self._access.ehlo(session, responses)

    async def handle_MAIL(  # noqa: N802 (aiosmtpd hook)
        self, server: object, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._access.refuse_mail(session)
        if refusal:
            return refusal
        await self._abort(session)
        passed_on = [o for o in options if o.startswith(_PASSED_ON)]
        self._envelopes[session] = OpenEnvelope(
            "" if address == "<>" else address,  # the null sender of a bounce
            per_recipient=self._per_recipient,
            transaction=self._transactions(address, passed_on),
        )
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook)
        self, server: object, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        open_envelope = self._envelopes.get(session)
        if open_envelope is None:
            return "503 5.5.1 need MAIL first"
        reply = await open_envelope.add(address)
        if reply.ok:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return reply.line

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook)
        self, server: object, session: Session, envelope: Envelope
    ) -> str:
        open_envelope = self._envelopes.pop(session, None)
        raw = envelope.original_content
        if open_envelope is None or raw is None:
            return "503 5.5.1 need MAIL and RCPT first"
        task: asyncio.Task[Reply] = asyncio.ensure_future(self._deliver(open_envelope, raw))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # shielded: a client that hangs up now must not stop a delivery halfway
        return (await asyncio.shield(task)).line

    async def handle_RSET(  # noqa: N802 (aiosmtpd hook)
        self, server: object, session: Session, envelope: Envelope
    ) -> str:
        await self._abort(session)
        return "250 OK"

    async def handle_QUIT(  # noqa: N802 (aiosmtpd hook)
        self, server: object, session: Session, envelope: Envelope
    ) -> str:
        await self._abort(session)
        return "221 Bye"

    # -- lifecycle -------------------------------------------------------------------------

    def connection_lost(self, session: Session) -> None:
        """The client went away (perhaps mid-DATA): abandon what it had started."""
        open_envelope = self._envelopes.pop(session, None)
        if open_envelope is not None:
            task = asyncio.ensure_future(open_envelope.abort())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds) for deliveries under way, then abandon the
        envelopes still open."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        for session in list(self._envelopes):
            await self._abort(session)

    async def _deliver(self, open_envelope: OpenEnvelope, raw: bytes) -> Reply:
        try:
            return await self._delivery.deliver(open_envelope, raw)
        except Exception:
            log.exception("relaying a message from %s failed", open_envelope.sender)
            await open_envelope.abort()
            return INTERNAL_ERROR

    async def _abort(self, session: Session) -> None:
        open_envelope = self._envelopes.pop(session, None)
        if open_envelope is not None:
            await open_envelope.abort()
