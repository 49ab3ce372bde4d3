"""The store on each backend: messages, links, events, and what the readings rely on."""

from __future__ import annotations

import pytest

from inkling.errors import StoreError, UnknownMessage
from inkling.events.model import Event, EventKind, Verdict, VerdictChange
from inkling.store import MessageRecord, Store
from inkling.tokens import new_message_id


def _message(message_id: str = "<a1@acme.example>") -> MessageRecord:
    return MessageRecord(
        id=new_message_id(),
        message_id=message_id,
        workflow="billing",
        ticket="48213",
        subject="Your refund — Grüße",
        sent_at=1_790_000_000,
        links_total=2,
    )


def test_message_round_trip_by_either_id(store: Store) -> None:
    record = _message()
    store.register_message(record, ["https://a.example/1", "https://a.example/2"])
    for key in (record.id, "<a1@acme.example>", "a1@acme.example", " <a1@acme.example> "):
        assert store.find_message(key) == record
    assert store.message_links(record.id) == ["https://a.example/1", "https://a.example/2"]


def test_duplicate_message_id_is_refused(store: Store) -> None:
    store.register_message(_message(), [])
    with pytest.raises(StoreError, match="already registered"):
        store.register_message(_message(), [])


def test_unknown_message(store: Store) -> None:
    with pytest.raises(UnknownMessage):
        store.find_message("<nobody@nowhere>")


def test_events_keep_their_evidence_and_order(store: Store) -> None:
    message = new_message_id()
    batch = [
        Event(
            message,
            EventKind.CLICK,
            1_790_000_100.5,
            "GET",
            1_790_000_000,
            link=1,
            ip="198.51.100.0",
            user_agent="Mozilla/5.0 ✓",
            headers={"referer": "https://mail.example/", "accept-language": "fr"},
            verdict=Verdict.MACHINE,
            agent="scanner",
            reasons=["clicked 2 s after send"],
        ),
        Event(message, EventKind.OPEN, 1_790_000_050.25, "HEAD", 1_790_000_000),
    ]
    store.insert_events(batch)
    stored = store.events_for(message)
    assert stored == sorted(batch, key=lambda e: e.ts)
    assert store.events_for(message, limit=1) == [batch[1]]
    assert store.event_counts(message) == {("click", "machine"): 1, ("open", "unknown"): 1}
    assert store.count_events() == 2


def test_empty_batch_is_a_no_op(store: Store) -> None:
    store.insert_events([])
    assert store.count_events() == 0


def test_migrations_are_idempotent(database_url: str) -> None:
    first = Store(database_url)
    first.migrate()
    first.close()
    second = Store(database_url)
    assert second.count_events() == 0
    second.close()


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(
        StoreError, match=r"cannot open the database postgresql\+psycopg://x:\*\*\*@"
    ):
        Store("postgresql+psycopg://x:secret@127.0.0.1:9/none")


def test_verdict_changes_update_the_event_and_are_kept_as_history(store: Store) -> None:
    message = new_message_id()
    opened = Event(message, EventKind.OPEN, 1_790_000_100.25, "GET", agent="yahoo_proxy")
    store.insert_events([opened])
    clicked = Event(message, EventKind.CLICK, 1_790_000_200.5, "GET", verdict=Verdict.HUMAN)
    change = VerdictChange(
        message,
        opened.ts,
        EventKind.OPEN,
        Verdict.HUMAN,
        "yahoo_proxy",
        ["a person followed a link 100 s later"],
        changed_at=1_790_000_200.6,
    )
    store.insert_events([clicked], [change])
    stored = store.events_for(message)
    assert [(e.kind, e.verdict) for e in stored] == [
        (EventKind.OPEN, Verdict.HUMAN),
        (EventKind.CLICK, Verdict.HUMAN),
    ]
    assert stored[0].reasons == ["a person followed a link 100 s later"]
    assert store.verdict_changes(message) == [change]


def test_evidence_with_awkward_characters_round_trips(store: Store) -> None:
    """Tabs, newlines, backslashes, quotes and non-Latin text in what clients send survive
    the batch insert (COPY on PostgreSQL, executemany on SQLite) unchanged."""
    message = new_message_id()
    awkward = 'Mozilla/5.0 (X11)\\t"quoted"\\\\ \t tab \n newline — Grüße 東京 \\N'
    event = Event(message, EventKind.OPEN, 1_790_000_100.5, "GET", user_agent=awkward)
    event.headers = {"referer": awkward, "accept-language": "de-DE,de;q=0.9"}
    event.reasons = [awkward]
    store.insert_events([event])
    [stored] = store.events_for(message)
    assert (stored.user_agent, stored.headers, stored.reasons) == (
        awkward,
        event.headers,
        [awkward],
    )
