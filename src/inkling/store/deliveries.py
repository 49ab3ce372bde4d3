"""Claims on copies being delivered: who is sending which copy now, and how far they got.

A claim is the row that makes delivery idempotent per copy. It is committed before the
copy is sent, keyed by the copy's Message-ID and recipient, so a second attempt at the
same copy finds it (the insert is refused) instead of sending it again. Its state says how
far the attempt got: ``claimed`` (nothing that counts sent yet), ``committing`` (written
just before the final dot of DATA: from here the upstream may have the copy). Once the
upstream's answer is known the claim goes: a copy it took is marked relayed on its
``messages`` row, a refused one is forgotten with its record.

Every change names the claim it expects (key, the attempt's copy id and its state), so
two processes settling the same claim cannot both act on it: the second finds nothing.
Deciding *whether* a holder is gone is the caller's business (the relay's); this module
only reads and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from inkling.model import InklingId
from inkling.store.engine import Database
from inkling.store.schema import deliveries, links, messages


class ClaimState(StrEnum):
    CLAIMED = "claimed"
    #: Written just before the final dot of DATA: the upstream may have the copy from now.
    COMMITTING = "committing"


@dataclass(frozen=True, slots=True)
class Claim:
    """One attempt's hold on one copy (a Message-ID to a recipient)."""

    message_id: str
    recipient: str  # lowercase; a shared copy's recipients joined by ", "
    copy: InklingId  # the attempt's copy
    state: ClaimState
    holder: str
    lease_until: float
    updated_at: float

    @property
    def key(self) -> tuple[str, str]:
        return (self.message_id, self.recipient)


class Deliveries:
    """Claims, read and changed one transaction at a time; errors are StoreErrors."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def held(self, keys: Sequence[tuple[str, str]]) -> list[Claim]:
        """The claims on these (Message-ID, recipient) keys, if any."""
        if not keys:
            return []
        wanted = or_(*(_is_key(key) for key in keys))
        with self._db.connect() as connection:
            return [
                _claim(row._mapping) for row in connection.execute(select(deliveries).where(wanted))
            ]

    def unsettled(self) -> list[Claim]:
        """Every claim: deliveries under way, or left behind by a process that died."""
        with self._db.connect() as connection:
            return [_claim(row._mapping) for row in connection.execute(select(deliveries))]

    def claim(self, claims: Sequence[Claim]) -> None:
        """Insert the claims in one transaction: all or none. StoreConflict if any key is
        claimed already (another attempt got there first)."""
        if not claims:
            return
        with self._db.begin() as connection:
            connection.execute(insert(deliveries), [_row(claim) for claim in claims])

    def renew(self, claims: Sequence[Claim], lease_until: float) -> None:
        """Extend the lease of claims still held as they are (a heartbeat)."""
        if not claims:
            return
        with self._db.begin() as connection:
            for claim in claims:
                connection.execute(
                    update(deliveries).where(_is(claim)).values(lease_until=lease_until)
                )

    def committing(self, claim: Claim, now: float) -> bool:
        """Move a claimed copy to ``committing``; False (nothing changed) if the claim is
        not held as given any more, in which case the copy must not be sent."""
        query = (
            update(deliveries)
            .where(_is(claim))
            .values(state=ClaimState.COMMITTING.value, updated_at=now)
        )
        with self._db.begin() as connection:
            return connection.execute(query).rowcount == 1

    def delivered(self, claims: Sequence[Claim], relayed_at: int) -> None:
        """The upstream took these copies: mark them relayed and drop their claims. The
        copy is marked even if its claim was settled meanwhile by someone else (the
        upstream's 250 is the better evidence)."""
        if not claims:
            return
        with self._db.begin() as connection:
            for claim in claims:
                connection.execute(delete(deliveries).where(_is(claim)))
                _mark_relayed(connection, claim.copy, relayed_at)

    def release(self, claims: Sequence[Claim]) -> list[Claim]:
        """Give up claims whose copies were not sent: the claim goes, and so does its
        copy's record unless the copy is marked relayed. The claims released (those
        still held as given)."""
        released: list[Claim] = []
        with self._db.begin() as connection:
            for claim in claims:
                if connection.execute(delete(deliveries).where(_is(claim))).rowcount != 1:
                    continue
                released.append(claim)
                _forget_unrelayed(connection, claim.copy)
        return released

    def settle_in_doubt(self, claim: Claim) -> bool:
        """A ``committing`` claim whose holder is gone: count its copy as delivered (the
        upstream most likely has it), relayed at the time it reached ``committing``.
        False if the claim is not held as given any more (someone else settled it)."""
        with self._db.begin() as connection:
            if connection.execute(delete(deliveries).where(_is(claim))).rowcount != 1:
                return False
            _mark_relayed(connection, claim.copy, int(claim.updated_at))
        return True


def _is_key(key: tuple[str, str]) -> Any:
    return and_(deliveries.c.message_id == key[0], deliveries.c.recipient == key[1])


def _is(claim: Claim) -> Any:
    """The claim exactly as given: same key, same attempt, same state."""
    return and_(
        _is_key(claim.key),
        deliveries.c.copy == claim.copy,
        deliveries.c.state == claim.state.value,
    )


def _mark_relayed(connection: Connection, copy: InklingId, relayed_at: int) -> None:
    connection.execute(
        update(messages)
        .where(messages.c.id == copy, messages.c.relayed_at.is_(None))
        .values(relayed_at=relayed_at)
    )


def _forget_unrelayed(connection: Connection, copy: InklingId) -> None:
    found = connection.execute(
        select(messages.c.relayed_at).where(messages.c.id == copy)
    ).one_or_none()
    if found is None or found.relayed_at is not None:
        return
    connection.execute(delete(links).where(links.c.message == copy))
    connection.execute(delete(messages).where(messages.c.id == copy))


def _row(claim: Claim) -> dict[str, Any]:
    return {
        "message_id": claim.message_id,
        "recipient": claim.recipient,
        "copy": claim.copy,
        "state": claim.state.value,
        "holder": claim.holder,
        "lease_until": claim.lease_until,
        "updated_at": claim.updated_at,
    }


def _claim(row: Any) -> Claim:
    return Claim(
        message_id=row["message_id"],
        recipient=row["recipient"],
        copy=InklingId(row["copy"]),
        state=ClaimState(row["state"]),
        holder=row["holder"],
        lease_until=row["lease_until"],
        updated_at=row["updated_at"],
    )
