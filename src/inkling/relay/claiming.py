"""Claiming copies before they are sent, and settling the claims after (blocking calls,
run in a worker thread).

Each copy is claimed by its Message-ID and recipient (``store.deliveries``) in one
transaction before anything is sent; only the attempt holding a copy's claim may send it.
What an attempt finds when it claims, copy by copy:

- nothing: the copy is claimed, and its record registered (replacing a record an attempt
  registered but never sent, e.g. the API's ``send=false``);
- the copy marked relayed by an earlier attempt: it is acknowledged, not sent again;
- a claim whose holder is still delivering it: the copy is *busy* (the relay answers 451,
  and the client's retry finds it relayed, or free again);
- a claim whose holder is gone (:mod:`liveness`): if it never reached ``committing``,
  nothing was delivered and the claim is released, so this attempt sends the copy; if it
  reached ``committing``, the final dot may have reached the upstream, and the copy is
  counted as delivered (in doubt: see ``docs/relay.md``).

A failure to settle (the store away just then) is kept in memory and tried again before
the next claim; until then the copies stay "in flight" here, so nobody takes the claims
over and mistakes a refused copy for one in doubt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from inkling.errors import StoreConflict, StoreError
from inkling.model import InklingId, MessageRecord
from inkling.relay.copies import Copy
from inkling.relay.liveness import THIS_PROCESS, Key, Liveness
from inkling.store import Claim, ClaimState, Store

log = logging.getLogger(__name__)
#: How long a claim holds without its holder renewing it (holders on other hosts).
LEASE_SECONDS = 120.0


def key_of(copy: Copy) -> Key:
    return (copy.record.message_id.strip(), copy.record.recipient.strip().lower())


@dataclass(slots=True)
class Hold:
    """What claiming a message's copies gave, by copy id."""

    #: The copies this attempt holds and must send (or release).
    claims: dict[InklingId, Claim] = field(default_factory=dict)
    #: Copies relayed before: the record of the attempt that relayed each.
    earlier: dict[InklingId, MessageRecord] = field(default_factory=dict)
    #: Copies another attempt is delivering right now.
    busy: set[InklingId] = field(default_factory=set)


class Claimer:
    """Claims and settles copies for one store (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        liveness: Liveness = THIS_PROCESS,
        lease_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._liveness = liveness
        self.lease_seconds = lease_seconds or LEASE_SECONDS
        self._clock = clock
        self._unsettled: list[tuple[list[Claim], list[Claim]]] = []

    def claim(self, copies: Sequence[Copy], *, all_or_nothing: bool) -> Hold:
        """Claim the copies, and register those to send. With ``all_or_nothing``, one
        busy copy makes them all busy (nothing claimed). Raises StoreError, holding
        nothing, when the store cannot do it."""
        self._settle_leftovers()
        keys = {copy.record.id: key_of(copy) for copy in copies}
        busy = self._busy(keys)
        if busy and all_or_nothing:
            return Hold(busy=set(keys))
        mine = self._new_claims({i: k for i, k in keys.items() if i not in busy})
        self._liveness.start(c.key for c in mine.values())
        try:
            self._store.deliveries.claim(list(mine.values()))
        except StoreConflict:  # another attempt claimed one between our read and insert
            self._liveness.finish(c.key for c in mine.values())
            log.info("%s is being delivered by another attempt", _names(mine))
            return Hold(busy=set(keys))
        except StoreError:
            self._liveness.finish(c.key for c in mine.values())
            raise
        try:
            return self._register(copies, mine, busy)
        except StoreError:
            self._give_up(list(mine.values()))
            raise

    def committing(self, claim: Claim) -> Claim | None:
        """Record that the copy's final dot is about to be sent; the claim as it is now,
        or None (do not send the dot) if it is not ours any more or the store is away."""
        now = self._clock()
        try:
            moved = self._store.deliveries.committing(claim, now)
        except StoreError as exc:
            log.error("cannot record that %s is being sent, so not sending it: %s", claim.key, exc)
            return None
        if not moved:
            log.error("the claim on %s was taken over; not sending it", claim.key)
            return None
        return replace(claim, state=ClaimState.COMMITTING, updated_at=now)

    def renew(self, claims: Sequence[Claim]) -> None:
        """Extend the lease of claims still being delivered (never raises)."""
        try:
            self._store.deliveries.renew(claims, self._clock() + self.lease_seconds)
        except StoreError as exc:
            log.warning("cannot renew the claims on %s: %s", [c.key for c in claims], exc)

    def settle(self, delivered: Sequence[Claim], refused: Sequence[Claim]) -> None:
        """The upstream took ``delivered`` (marked relayed) and not ``refused`` (released,
        with their records). Never raises: a failure is retried before the next claim."""
        pair = (list(delivered), list(refused))
        try:
            self._write(pair)
        except StoreError as exc:
            log.error(
                "relayed %s, not %s, but cannot record it yet: %s",
                [c.copy for c in pair[0]],
                [c.copy for c in pair[1]],
                exc,
            )
            self._unsettled.append(pair)

    def abandon(self, claims: Sequence[Claim]) -> None:
        """An attempt that broke off with its outcome unknown: release the claims that
        never reached ``committing``; the others stay for the next attempt to count as
        delivered (this process no longer has them in flight)."""
        self._give_up([c for c in claims if c.state is ClaimState.CLAIMED])
        self._liveness.finish(c.key for c in claims if c.state is not ClaimState.CLAIMED)

    def reconcile(self) -> int:
        """Settle every claim whose holder is gone (run at start); how many. Raises
        StoreError if the store cannot be read."""
        now = self._clock()
        left = [
            c
            for c in self._store.deliveries.unsettled()
            if self._liveness.gone(c.holder, c.key, c.lease_until, now)
        ]
        for claim in left:
            self._take_over(claim)
        return len(left)

    # -- inside claim ----------------------------------------------------------------------

    def _busy(self, keys: dict[InklingId, Key]) -> set[InklingId]:
        """The copies someone alive is delivering; claims left by the gone are settled."""
        now = self._clock()
        busy: set[InklingId] = set()
        for found in self._store.deliveries.held(sorted(set(keys.values()))):
            if self._liveness.gone(found.holder, found.key, found.lease_until, now):
                self._take_over(found)
            else:
                busy |= {ident for ident, key in keys.items() if key == found.key}
        return busy

    def _new_claims(self, keys: dict[InklingId, Key]) -> dict[InklingId, Claim]:
        now = self._clock()
        return {
            ident: Claim(
                message_id=key[0],
                recipient=key[1],
                copy=ident,
                state=ClaimState.CLAIMED,
                holder=self._liveness.holder,
                lease_until=now + self.lease_seconds,
                updated_at=now,
            )
            for ident, key in keys.items()
        }

    def _register(
        self, copies: Sequence[Copy], mine: dict[InklingId, Claim], busy: set[InklingId]
    ) -> Hold:
        """With the claims held: acknowledge copies relayed before, replace records never
        sent, register the rest."""
        earlier: dict[InklingId, MessageRecord] = {}
        held = [copy for copy in copies if copy.record.id in mine]
        for message_id in {copy.record.message_id for copy in held}:
            found = self._store.messages.copies_of(message_id)
            for copy in (c for c in held if c.record.message_id == message_id):
                for record in found:
                    if record.recipient.strip().lower() != key_of(copy)[1]:
                        continue
                    if record.relayed_at is not None:
                        earlier[copy.record.id] = record
                    else:  # registered by an attempt that never sent it
                        self._store.messages.forget([record.id])
        done = [mine.pop(ident) for ident in earlier]
        if done:
            self._give_up(done)
        self._store.messages.register_all(
            [(c.record, c.links) for c in held if c.record.id in mine]
        )
        return Hold(claims=mine, earlier=earlier, busy=busy)

    def _take_over(self, claim: Claim) -> None:
        if claim.state is ClaimState.COMMITTING:
            if self._store.deliveries.settle_in_doubt(claim):
                log.warning(
                    "%s to %s counted as delivered: the process sending it (%s) stopped "
                    "after its final dot, so the upstream most likely has it",
                    claim.message_id,
                    claim.recipient,
                    claim.holder,
                )
        elif self._store.deliveries.release([claim]):
            log.info(
                "released %s to %s: the process sending it (%s) stopped before sending it",
                claim.message_id,
                claim.recipient,
                claim.holder,
            )

    # -- settling --------------------------------------------------------------------------

    def _write(self, pair: tuple[list[Claim], list[Claim]]) -> None:
        delivered, refused = pair
        self._store.deliveries.delivered(delivered, int(self._clock()))
        self._store.deliveries.release(refused)
        self._liveness.finish(c.key for c in [*delivered, *refused])

    def _settle_leftovers(self) -> None:
        while self._unsettled:
            self._write(self._unsettled[0])
            self._unsettled.pop(0)

    def _give_up(self, claims: list[Claim]) -> None:
        """Release claims of copies not to be sent (best effort: a claim left behind is
        this process's and not in flight, so the next attempt releases it)."""
        try:
            self._store.deliveries.release(claims)
        except StoreError as exc:
            log.warning("cannot release the claims on %s: %s", [c.key for c in claims], exc)
        self._liveness.finish(c.key for c in claims)


def _names(claims: dict[InklingId, Claim]) -> str:
    return ", ".join(f"{c.message_id} to {c.recipient}" for c in claims.values())
