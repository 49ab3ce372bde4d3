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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from inkling.errors import StoreError
from inkling.relay.copies import Copy, CopyMaker
from inkling.relay.dsn import failure_report
from inkling.relay.envelope import OpenCopy, OpenEnvelope
from inkling.relay.upstream import Reply, Transaction
from inkling.store import Store

log = logging.getLogger(__name__)
STORE_AWAY = Reply(451, "4.3.0 Inkling cannot record the message right now; try again later")


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
        """Send the message; the reply the client should get for it."""
        open_copies = envelope.accepted()
        if not open_copies:
            await envelope.abort()
            return Reply(554, "5.5.1 no valid recipients")
        try:
            copies = await asyncio.to_thread(
                self._maker.make, raw, envelope.sender, [c.plan() for c in open_copies]
            )
            already = await asyncio.to_thread(self._register, copies)
        except StoreError as exc:
            log.error("cannot register a relayed message: %s", exc)
            await envelope.abort()
            return STORE_AWAY
        return await self._send(envelope, list(zip(copies, open_copies, strict=True)), already, raw)

    async def _send(
        self,
        envelope: OpenEnvelope,
        pairs: list[tuple[Copy, OpenCopy]],
        already: set[str],
        raw: bytes,
    ) -> Reply:
        delivered: list[Copy] = []
        failed: list[tuple[Copy, Reply]] = []
        for copy, open_copy in pairs:
            if copy.record.id in already:
                await open_copy.transaction.close()
                delivered.append(copy)
                log.info("%s to %s was relayed before; not sent again", *_names(copy))
                continue
            if failed and not delivered:
                await open_copy.transaction.close()
                failed.append((copy, failed[0][1]))
                continue
            reply = await open_copy.transaction.send(copy.data)
            if reply.ok:
                delivered.append(copy)
                log.info("relayed %s to %s as %s", *_names(copy), copy.record.id)
            else:
                failed.append((copy, reply))
                log.warning("upstream refused %s to %s: %s", *_names(copy), reply.line)
        await envelope.abort()
        fresh = [c.record.id for c in delivered if c.record.id not in already]
        await self._settle(fresh, [c.record.id for c, _ in failed if c.record.id not in already])
        if not delivered:
            return failed[0][1]
        if failed:
            await self._report(envelope.sender, failed, raw)
        copies = "1 copy" if len(pairs) == 1 else f"{len(delivered)} copies"
        return Reply(250, f"2.0.0 relayed as {copies}")

    def _register(self, copies: Sequence[Copy]) -> set[str]:
        """Register the copies; the ids of those a previous attempt already relayed."""
        already: set[str] = set()
        for copy in copies:
            for earlier in self._store.find_messages(copy.record.message_id):
                if earlier.recipient.lower() != copy.record.recipient.lower():
                    continue
                if earlier.relayed_at is not None:
                    already.add(copy.record.id)
                else:  # registered by an attempt that never finished sending
                    self._store.forget_messages([earlier.id])
        self._store.register_messages(
            [(c.record, c.links) for c in copies if c.record.id not in already]
        )
        return already

    async def _settle(self, delivered: list[str], failed: list[str]) -> None:
        try:
            await asyncio.to_thread(self._store.mark_relayed, delivered, int(time.time()))
            await asyncio.to_thread(self._store.forget_messages, failed)
        except StoreError as exc:  # the mail went out (or not) all the same; say so
            log.error("relayed %s, refused %s, but cannot record it: %s", delivered, failed, exc)

    async def _report(self, sender: str, failed: list[tuple[Copy, Reply]], raw: bytes) -> None:
        failures = [(r, reply) for copy, reply in failed for r in _recipients(copy)]
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
