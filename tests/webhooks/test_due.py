"""``recommendation.due``: a due recommendation reaches a real receiver once, signed."""

from __future__ import annotations

from standardwebhooks import Webhook

from inkling.model import MessageIdHeader, MessageRecord
from inkling.playbook.teams import TeamBook
from inkling.store import Store
from inkling.store.webhooks import Webhooks
from inkling.tickets.upsert import parse_ticket
from inkling.times import parse_time
from inkling.tokens import new_message_id
from inkling.webhooks import Dispatcher, subscribe
from inkling.webhooks.due import DueAnnouncer, DueFeed
from tests.webhooks.receiver import Receiver


def _silent_urgent_ticket(store: Store) -> None:
    store.tickets.upsert(
        parse_ticket({"id": "4123", "priority": "urgent", "created_at": "2026-11-02T09:00:00Z"})
    )
    sent = int(parse_time("2026-11-02T10:00:00Z", "sent"))  # a Monday
    copy = MessageRecord(
        new_message_id(), MessageIdHeader("<a1@help.example>"), None, "4123", "Hi", sent, 0
    )
    store.messages.register(copy, [])


def test_a_due_recommendation_is_announced_once(
    store: Store, webhooks: Webhooks, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    announcer = DueAnnouncer(store, webhooks, TeamBook())
    _silent_urgent_ticket(store)
    assert announcer.announce(parse_time("2026-11-03T09:00:00Z", "now")) == 0  # nobody listens
    subscription = subscribe(webhooks, receiver.url, ("recommendation.due",))
    assert announcer.announce(parse_time("2026-11-03T09:59:00Z", "now")) == 0  # not yet due
    assert announcer.announce(parse_time("2026-11-03T10:00:00Z", "now")) == 1
    assert announcer.announce(parse_time("2026-11-03T10:05:00Z", "now")) == 0  # once
    (got,) = receiver.wait_for(1)
    payload = Webhook(subscription.secret).verify(got.body, got.headers)
    assert payload["type"] == "recommendation.due"
    data = payload["data"]
    assert (data["ticket"], data["action"], data["due"]) == (
        "4123",
        "escalate",
        "2026-11-03T10:00:00Z",
    )
    assert data["reason"].startswith("Urgent, and no sign of a person")


def test_the_live_feed_gets_due_recommendations_while_someone_watches(
    store: Store, webhooks: Webhooks
) -> None:
    feed = DueFeed()
    announcer = DueAnnouncer(store, webhooks, TeamBook(), feed=feed)
    _silent_urgent_ticket(store)
    due = parse_time("2026-11-03T10:00:00Z", "now")
    announcer.announce(due)
    assert feed.since(0) == []  # nobody watching, no subscription: the queue is not read
    feed.listeners = 1
    announcer.announce(due + 60)
    announcer.announce(due + 120)  # once
    ((number, envelope),) = feed.since(0)
    assert envelope["type"] == "recommendation.due"
    assert (envelope["data"]["ticket"], envelope["data"]["action"]) == ("4123", "escalate")
    assert feed.since(number) == []


def test_a_restarted_or_new_announcer_announces_nothing_twice(
    store: Store, webhooks: Webhooks, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    subscribe(webhooks, receiver.url, ("recommendation.due",))
    _silent_urgent_ticket(store)
    due = parse_time("2026-11-03T10:00:00Z", "now")
    assert DueAnnouncer(store, webhooks, TeamBook()).announce(due) == 1
    receiver.wait_for(1)  # delivered: the outbox row is gone, the announcement is not
    taking_over = DueAnnouncer(store, webhooks, TeamBook())  # another node, or a restart
    assert taking_over.announce(due + 60) == 0
    assert len(receiver.wait_for(1)) == 1


def test_the_feed_is_told_through_tell_for_every_node(store: Store, webhooks: Webhooks) -> None:
    told: list[dict[str, object]] = []
    announcer = DueAnnouncer(store, webhooks, TeamBook(), tell=told.append)
    _silent_urgent_ticket(store)
    # with ``tell`` some node may have watchers: the queue is read with no subscription
    assert announcer.announce(parse_time("2026-11-03T10:00:00Z", "now")) == 1
    ((envelope),) = told
    assert envelope["type"] == "recommendation.due"
