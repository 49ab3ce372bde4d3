"""Leases on each backend: one holder at a time, renewal by the holder, takeover only once
a lease has expired, release on a clean stop."""

from __future__ import annotations

from inkling.store import Store


def test_one_holder_at_a_time_until_the_lease_expires(store: Store) -> None:
    leases = store.leases
    assert leases.take("webhooks", "node-a", 15, now=1000)
    assert not leases.take("webhooks", "node-b", 15, now=1001)  # held by a
    assert leases.take("webhooks", "node-a", 15, now=1005)  # a renews: now until 1020
    assert not leases.take("webhooks", "node-b", 15, now=1019)
    assert leases.take("webhooks", "node-b", 15, now=1021)  # a stopped renewing: b takes it
    assert not leases.take("webhooks", "node-a", 15, now=1022)
    [held] = leases.all()
    assert (held.name, held.holder, held.expires_at) == ("webhooks", "node-b", 1036)


def test_leases_are_apart_and_released_on_a_clean_stop(store: Store) -> None:
    leases = store.leases
    assert leases.take("webhooks", "node-a", 15, now=1000)
    assert leases.take("purge", "node-b", 15, now=1000)  # another lease, another holder
    leases.release("webhooks", "node-b")  # not b's to give up
    assert not leases.take("webhooks", "node-b", 15, now=1001)
    leases.release("webhooks", "node-a")
    assert leases.take("webhooks", "node-b", 15, now=1001)  # at once, not after expiry
