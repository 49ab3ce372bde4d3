"""DATA: prepare the copies, register them, send them, and answer truthfully.

The order is what keeps the promise that nothing acknowledged is lost and nothing is sent
twice:

1. The copies are registered (one transaction) *before* any is sent, so every tracked link
   and pixel that can ever be hit belongs to a registered message; if the database is
   away, the client gets ``451`` and nothing was sent.
2. The copies are sent one by one on the upstream transactions opened at RCPT. Until one
   is accepted, the first refusal ends the attempt: the rest are abandoned, the records
   removed, and the client gets the upstream's reply (4xx: try again; 5xx: bounce), which
   is true for every recipient because nobody received anything.
3. Once one copy is accepted the message cannot be refused any more without a retry
   sending it twice, so the relay answers ``250`` and, like any mail server that has
   accepted a message, tells the sender in a delivery status notification which
   recipients the upstream refused (their records are removed).

Each accepted copy is marked relayed. A helpdesk that sends a message again after losing
the relay's ``250`` finds its copies already relayed: they are acknowledged, not resent. A
record never marked relayed (Inkling stopped mid-send) is replaced by the retry.

The sending API uses the same steps through :meth:`Delivery.send`, without step 2's
all-or-nothing rule and step 3's notification: its caller gets an answer per copy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from inkling.errors import StoreError
from inkling.relay.copies import Copy, CopyMaker
from inkling.relay.dsn import failure_report
from inkling.relay.envelope import OpenCopy, OpenEnvelope
from inkling.relay.upstream import Reply, Transaction
from inkling.store import MessageRecord, Store

log = logging.getLogger(__name__)
STORE_AWAY = Reply(451, "4.3.0 Inkling cannot record the message right now; try again later")
NO_RECIPIENTS = Reply(554, "5.5.1 no valid recipients")
RELAYED_BEFORE = Reply(250, "2.0.0 relayed before; not sent again")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one copy: the reply that settled it (the upstream's, or Inkling's
    when it could not reach the upstream). ``earlier``: an earlier attempt relayed this
    copy, so it was not sent again, and ``copy.record`` is that attempt's record."""

    copy: Copy
    reply: Reply
    earlier: bool = False

    @property
    def sent(self) -> bool:
        return self.reply.ok


class Delivery:
    """Sends what an OpenEnvelope collected; see the module docstring."""

    def __init__(
        self,
        *,
        store: Store,
        maker: CopyMaker,
        hostname: str,
        bounce_transaction: Callable[[], Transaction],
    ) -> None:
        self._store = store
        self._maker = maker
        self._hostname = hostname
        self._bounce_transaction = bounce_transaction

    async def deliver(self, envelope: OpenEnvelope, raw: bytes) -> Reply:
        """Send the message; the one reply an SMTP client should get for it."""
        try:
            outcomes = await self.send(envelope, raw, all_or_nothing=True)
        except StoreError as exc:
            log.error("cannot register a relayed message: %s", exc)
            return STORE_AWAY
        if not outcomes:
            return NO_RECIPIENTS
        sent = [o for o in outcomes if o.sent]
        refused = [o for o in outcomes if not o.sent]
        if not sent:
            return refused[0].reply
        if refused:
            await self._report(envelope.sender, refused, raw)
        copies = "1 copy" if len(outcomes) == 1 else f"{len(sent)} copies"
        return Reply(250, f"2.0.0 relayed as {copies}")

    async def send(
        self, envelope: OpenEnvelope, raw: bytes, *, all_or_nothing: bool
    ) -> list[Outcome]:
        """Make, register and send a copy for each copy the envelope opened upstream; what
        became of each, in order ([] when the upstream accepted no recipient).

        With ``all_or_nothing``, the first refusal before any copy was accepted abandons
        the rest with that reply: an SMTP client gets one answer for all its recipients.
        Raises StoreError, having sent nothing, if the copies cannot be registered.
        """
        open_copies = envelope.accepted()
        if not open_copies:
            await envelope.abort()
            return []
        try:
            copies = await asyncio.to_thread(
                self._maker.make, raw, envelope.sender, [c.plan() for c in open_copies]
            )
            already = await asyncio.to_thread(self._register, copies)
        except StoreError:
            await envelope.abort()
            raise
        pairs = list(zip(copies, open_copies, strict=True))
        outcomes = await self._send(pairs, already, all_or_nothing)
        await envelope.abort()
        await self._settle(outcomes)
        return outcomes

    async def _send(
        self,
        pairs: list[tuple[Copy, OpenCopy]],
        already: dict[str, MessageRecord],
        all_or_nothing: bool,
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for copy, open_copy in pairs:
            earlier = already.get(copy.record.id)
            if earlier is not None:
                await open_copy.transaction.close()
                outcomes.append(Outcome(replace(copy, record=earlier), RELAYED_BEFORE, True))
                log.info("%s to %s was relayed before; not sent again", *_names(copy))
                continue
            if all_or_nothing and outcomes and not any(o.sent for o in outcomes):
                await open_copy.transaction.close()
                outcomes.append(Outcome(copy, outcomes[0].reply))
                continue
            reply = await open_copy.transaction.send(copy.data)
            if reply.ok:
                log.info("relayed %s to %s as %s", *_names(copy), copy.record.id)
            else:
                log.warning("upstream refused %s to %s: %s", *_names(copy), reply.line)
            outcomes.append(Outcome(copy, reply))
        return outcomes

    def _register(self, copies: Sequence[Copy]) -> dict[str, MessageRecord]:
        """Register the copies; for those a previous attempt already relayed, that
        attempt's record, by the new copy's id."""
        already: dict[str, MessageRecord] = {}
        for copy in copies:
            for earlier in self._store.find_messages(copy.record.message_id):
                if earlier.recipient.lower() != copy.record.recipient.lower():
                    continue
                if earlier.relayed_at is not None:
                    already[copy.record.id] = earlier
                else:  # registered by an attempt that never finished sending
                    self._store.forget_messages([earlier.id])
        self._store.register_messages(
            [(c.record, c.links) for c in copies if c.record.id not in already]
        )
        return already

    async def _settle(self, outcomes: list[Outcome]) -> None:
        fresh = [o for o in outcomes if not o.earlier]
        delivered = [o.copy.record.id for o in fresh if o.sent]
        failed = [o.copy.record.id for o in fresh if not o.sent]
        try:
            await asyncio.to_thread(self._store.mark_relayed, delivered, int(time.time()))
            await asyncio.to_thread(self._store.forget_messages, failed)
        except StoreError as exc:  # the mail went out (or not) all the same; say so
            log.error("relayed %s, refused %s, but cannot record it: %s", delivered, failed, exc)

    async def _report(self, sender: str, refused: list[Outcome], raw: bytes) -> None:
        failures = [(r, o.reply) for o in refused for r in _recipients(o.copy)]
        if not sender:
            log.error("cannot report refused recipients %s: the sender is null", failures)
            return
        report = failure_report(
            reporting_host=self._hostname, sender=sender, failures=failures, original=raw
        )
        transaction = self._bounce_transaction()
        reply = await transaction.add_recipient(sender)
        if reply.ok:
            reply = await transaction.send(report)
        await transaction.close()
        if not reply.ok:
            log.error("could not tell %s that %s were refused: %s", sender, failures, reply.line)


def _recipients(copy: Copy) -> list[str]:
    return [r.strip() for r in copy.record.recipient.split(",")]


def _names(copy: Copy) -> tuple[str, str]:
    return copy.record.message_id, copy.record.recipient
