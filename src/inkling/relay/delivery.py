"""DATA: claim the copies, register them, send them, and answer truthfully.

The order is what keeps the promise that nothing acknowledged is lost and no copy is sent
twice:

1. Each copy is claimed (``claiming.py``) and registered *before* it is sent, so every
   tracked link and pixel that can ever be hit belongs to a registered message, and a
   second attempt at the same copy (a resend while this one is under way, or after a
   crash) knows about this one. If the database is away, the client gets ``451`` and
   nothing was sent. If another connection is delivering the message right now, the
   client gets ``451`` too, nothing is sent, and its retry finds the copies relayed.
2. The copies are sent one by one on the upstream transactions opened at RCPT. Just
   before each final dot of DATA, the copy's claim moves to ``committing``: after a
   crash, that line tells "certainly not delivered" (sent again on resend) from "the
   upstream most likely has it" (counted as delivered).
3. The answer. Until one copy is accepted, the first refusal ends the attempt: the rest
   are abandoned and the client gets the upstream's reply, true for every recipient
   because nobody received anything. If any copy got a temporary refusal (4xx), the
   client gets that 4xx for the whole message: its retry acknowledges the copies already
   relayed and sends only the others. If copies were accepted and others refused for
   good (5xx), the relay answers ``250`` and, like any mail server that has accepted a
   message, tells the sender in a delivery status notification which recipients the
   upstream refused.

Each accepted copy is marked relayed and its claim dropped; a refused copy's claim and
record are removed, so a retry sends it.

The sending API uses the same steps through :meth:`Delivery.send`, without step 3's
answer for the whole message: its caller gets an answer per copy (a copy busy elsewhere
is answered ``451``, the others are sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from inkling.errors import StoreError
from inkling.model import InklingId
from inkling.relay.claiming import Claimer, Hold
from inkling.relay.copies import Copy, CopyMaker
from inkling.relay.dsn import failure_report
from inkling.relay.envelope import OpenCopy, OpenEnvelope
from inkling.relay.upstream import Reply, Transaction
from inkling.store import Claim, Store

log = logging.getLogger(__name__)
STORE_AWAY = Reply(451, "4.3.0 Inkling cannot record the message right now; try again later")
NO_RECIPIENTS = Reply(554, "5.5.1 no valid recipients")
RELAYED_BEFORE = Reply(250, "2.0.0 relayed before; not sent again")
IN_FLIGHT = Reply(
    451,
    "4.3.0 this message is being sent on another connection right now; try again later",
    reached=False,
)
COUNTED_DELIVERED = Reply(
    250, "2.0.0 sent, but the mail server's answer was lost; counted as delivered"
)


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
        claimer: Claimer | None = None,
    ) -> None:
        self._maker = maker
        self._hostname = hostname
        self._bounce_transaction = bounce_transaction
        self._claimer = claimer or Claimer(store)

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
        if not refused:
            copies = "1 copy" if len(outcomes) == 1 else f"{len(sent)} copies"
            return Reply(250, f"2.0.0 relayed as {copies}")
        temporary = [o for o in refused if o.reply.code < 500]
        if temporary:
            if sent:
                log.info(
                    "%s: %d of %d copies relayed, the rest refused for now (%s); the "
                    "client will retry and only those will be sent",
                    sent[0].copy.record.message_id,
                    len(sent),
                    len(outcomes),
                    temporary[0].reply.line,
                )
            return temporary[0].reply
        if not sent:
            return refused[0].reply
        await self._report(envelope.sender, refused, raw)
        return Reply(250, f"2.0.0 relayed as {len(sent)} copies")

    async def send(
        self, envelope: OpenEnvelope, raw: bytes, *, all_or_nothing: bool
    ) -> list[Outcome]:
        """Make, claim, register and send a copy for each copy the envelope opened
        upstream; what became of each, in order ([] when the upstream accepted no
        recipient).

        With ``all_or_nothing``, the first refusal before any copy was accepted abandons
        the rest with that reply, and one copy busy elsewhere makes them all busy: an
        SMTP client gets one answer for all its recipients. Raises StoreError, having
        sent nothing, if the copies cannot be claimed or registered.
        """
        open_copies = envelope.accepted()
        if not open_copies:
            await envelope.abort()
            return []
        try:
            copies = await asyncio.to_thread(
                self._maker.make, raw, envelope.sender, [c.plan() for c in open_copies]
            )
            hold = await asyncio.to_thread(
                self._claimer.claim, copies, all_or_nothing=all_or_nothing
            )
        except StoreError:
            await envelope.abort()
            raise
        pairs = list(zip(copies, open_copies, strict=True))
        with self._renewing(hold.claims):
            try:
                outcomes = await self._send(pairs, hold, all_or_nothing)
            except BaseException:
                # outcomes unknown: release what never reached the final dot, leave the
                # rest for the next attempt to count as delivered
                self._claimer.abandon(list(hold.claims.values()))
                await envelope.abort()
                raise
            await envelope.abort()
            await self._settle(outcomes, hold.claims)
        return outcomes

    def reconcile(self) -> None:
        """Settle claims left by processes that are gone (blocking; run at start)."""
        try:
            settled = self._claimer.reconcile()
        except StoreError as exc:
            log.warning("cannot look for deliveries left unsettled: %s", exc)
            return
        if settled:
            log.warning("settled %d deliveries left unsettled by a process that stopped", settled)

    async def _send(
        self, pairs: list[tuple[Copy, OpenCopy]], hold: Hold, all_or_nothing: bool
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for copy, open_copy in pairs:
            ident = copy.record.id
            earlier = hold.earlier.get(ident)
            if earlier is not None:
                await open_copy.transaction.close()
                outcomes.append(Outcome(replace(copy, record=earlier), RELAYED_BEFORE, True))
                log.info("%s to %s was relayed before; not sent again", *_names(copy))
            elif ident in hold.busy:
                await open_copy.transaction.close()
                outcomes.append(Outcome(copy, IN_FLIGHT))
            elif all_or_nothing and outcomes and not any(o.sent for o in outcomes):
                await open_copy.transaction.close()
                outcomes.append(Outcome(copy, outcomes[0].reply))
            else:
                outcomes.append(Outcome(copy, await self._send_one(copy, open_copy, hold)))
        return outcomes

    async def _send_one(self, copy: Copy, open_copy: OpenCopy, hold: Hold) -> Reply:
        ident = copy.record.id

        async def before_final_dot() -> bool:
            moved = await asyncio.to_thread(self._claimer.committing, hold.claims[ident])
            if moved is not None:
                hold.claims[ident] = moved
            return moved is not None

        reply = await open_copy.transaction.send(copy.data, before_final_dot)
        if reply.in_doubt:
            log.warning(
                "%s to %s: the upstream's answer was lost after the final dot; counted as "
                "delivered (%s)",
                *_names(copy),
                ident,
            )
            return COUNTED_DELIVERED
        if reply.ok:
            log.info("relayed %s to %s as %s", *_names(copy), ident)
        else:
            log.warning("upstream refused %s to %s: %s", *_names(copy), reply.line)
        return reply

    async def _settle(self, outcomes: list[Outcome], claims: dict[InklingId, Claim]) -> None:
        fresh = [(claims[o.copy.record.id], o) for o in outcomes if o.copy.record.id in claims]
        delivered = [claim for claim, outcome in fresh if outcome.sent]
        refused = [claim for claim, outcome in fresh if not outcome.sent]
        await asyncio.to_thread(self._claimer.settle, delivered, refused)

    @contextlib.contextmanager
    def _renewing(self, claims: dict[InklingId, Claim]) -> Iterator[None]:
        """Renew the claims' lease while the block runs (a holder on another node that
        stops renewing is taken for gone)."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self._claimer.lease_seconds / 3)
                await asyncio.to_thread(self._claimer.renew, list(claims.values()))

        task = asyncio.ensure_future(renew()) if claims else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

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
