"""The claims behind idempotent delivery (``store.deliveries``), on each backend: one
claim per copy, and every change refused unless the claim is still as the caller saw it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from inkling.errors import StoreConflict
from inkling.model import MessageIdHeader, MessageRecord
from inkling.store import Claim, ClaimState, Store
from inkling.store.schema import deliveries
from inkling.tokens import new_message_id

MESSAGE_ID = "<claims-1@acme.example>"


@pytest.fixture
def claims_store(store: Store) -> Iterator[Store]:
    """The store with no claims left by an earlier test (PostgreSQL is shared)."""
    with store.database.begin() as connection:
        connection.execute(delete(deliveries))
    yield store


def _registered(store: Store, recipient: str) -> Claim:
    ident = new_message_id()
    store.messages.register(
        MessageRecord(
            id=ident,
            message_id=MessageIdHeader(MESSAGE_ID),
            workflow=None,
            ticket=None,
            subject=None,
            sent_at=1_790_000_000,
            links_total=1,
            recipient=recipient,
        ),
        ["https://help.acme.example/a"],
    )
    now = time.time()
    return Claim(MESSAGE_ID, recipient, ident, ClaimState.CLAIMED, "here|1|n", now + 60, now)


def test_a_copy_is_claimed_once_and_a_batch_is_all_or_nothing(claims_store: Store) -> None:
    ann, bob = (
        _registered(claims_store, "ann@x.example"),
        _registered(claims_store, "bob@x.example"),
    )
    claims_store.deliveries.claim([ann])
    again = Claim(MESSAGE_ID, ann.recipient, new_message_id(), ClaimState.CLAIMED, "b|2|m", 0, 0)
    with pytest.raises(StoreConflict):
        claims_store.deliveries.claim([bob, again])
    assert claims_store.deliveries.unsettled() == [ann]  # Bob's claim went with the batch
    assert claims_store.deliveries.held([ann.key, bob.key]) == [ann]


def test_changes_need_the_claim_as_it_was_seen(claims_store: Store) -> None:
    ann = _registered(claims_store, "ann@x.example")
    claims_store.deliveries.claim([ann])
    assert claims_store.deliveries.committing(ann, ann.updated_at + 1)
    assert not claims_store.deliveries.committing(ann, ann.updated_at + 2)  # not "claimed" now
    assert claims_store.deliveries.release([ann]) == []  # a stale view releases nothing
    [committing] = claims_store.deliveries.unsettled()
    assert committing.state is ClaimState.COMMITTING
    assert claims_store.messages.find(ann.copy).relayed_at is None


def test_delivered_marks_the_copy_and_drops_the_claim(claims_store: Store) -> None:
    ann = _registered(claims_store, "ann@x.example")
    claims_store.deliveries.claim([ann])
    claims_store.deliveries.delivered([ann], 1_790_000_100)
    assert claims_store.deliveries.unsettled() == []
    assert claims_store.messages.find(ann.copy).relayed_at == 1_790_000_100


def test_release_forgets_only_a_copy_never_relayed(claims_store: Store) -> None:
    ann, bob = (
        _registered(claims_store, "ann@x.example"),
        _registered(claims_store, "bob@x.example"),
    )
    claims_store.messages.mark_relayed([bob.copy], 1_790_000_050)
    claims_store.deliveries.claim([ann, bob])
    assert claims_store.deliveries.release([ann, bob]) == [ann, bob]
    assert [c.id for c in claims_store.messages.copies_of(MESSAGE_ID)] == [bob.copy]
    assert claims_store.messages.links(ann.copy) == []


def test_a_claim_in_doubt_is_settled_once_as_delivered(claims_store: Store) -> None:
    ann = _registered(claims_store, "ann@x.example")
    committing = Claim(
        ann.message_id, ann.recipient, ann.copy, ClaimState.COMMITTING, "gone|9|x", 0, 1_790_000_070
    )
    claims_store.deliveries.claim([committing])
    assert claims_store.deliveries.settle_in_doubt(committing)
    assert not claims_store.deliveries.settle_in_doubt(committing)
    assert claims_store.messages.find(ann.copy).relayed_at == 1_790_000_070
    assert claims_store.deliveries.unsettled() == []
