"""The store on each backend: messages, links, events, and what the readings rely on."""

from __future__ import annotations

import pytest

from inkling.errors import DuplicateMessage, StoreUnavailable, UnknownMessage
from inkling.model import (
    Agent,
    Event,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Verdict,
    VerdictChange,
    new_event_id,
)
from inkling.store import SegmentProgress, Store
from inkling.tokens import new_message_id


def _message(message_id: str = "<a1@acme.example>") -> MessageRecord:
    return MessageRecord(
        id=new_message_id(),
        message_id=MessageIdHeader(message_id),
        workflow="billing",
        ticket="48213",
        subject="Your refund — Grüße",
        sent_at=1_790_000_000,
        links_total=2,
    )


def _event(message: InklingId, kind: EventKind, ts: float, **fields: object) -> Event:
    return Event(new_event_id(), message, kind, ts, **fields)  # type: ignore[arg-type]


def test_message_round_trip_by_either_id(store: Store) -> None:
    record = _message()
    store.messages.register(record, ["https://a.example/1", "https://a.example/2"])
    for key in (record.id, "<a1@acme.example>", "a1@acme.example", " <a1@acme.example> "):
        assert store.messages.find(key) == record
    assert store.messages.links(record.id) == ["https://a.example/1", "https://a.example/2"]


def test_duplicate_message_id_is_refused(store: Store) -> None:
    store.messages.register(_message(), [])
    with pytest.raises(DuplicateMessage, match="already registered"):
        store.messages.register(_message(), [])


def test_unknown_message(store: Store) -> None:
    with pytest.raises(UnknownMessage):
        store.messages.find("<nobody@nowhere>")


def test_events_keep_their_evidence_details_and_order(store: Store) -> None:
    message = new_message_id()
    click = _event(
        message,
        EventKind.CLICK,
        1_790_000_100.5,
        sent_at=1_790_000_000,
        link=1,
        ip="198.51.100.0",
        network="microsoft",
        user_agent="Mozilla/5.0 ✓",
        evidence={"referer": "https://mail.example/", "accept-language": "fr"},
        verdict=Verdict.MACHINE,
        agent=Agent.SCANNER,
        reasons=["clicked 2 s after send", "a current browser"],
        leanings=["machine", "person"],
    )
    head = _event(message, EventKind.OPEN, 1_790_000_050.25, method="HEAD", network="")
    bounce = _event(
        message,
        EventKind.BOUNCE,
        1_790_000_300.0,
        method="SMTP",
        details={"class": "hard", "status": "5.1.1"},
    )
    store.events.insert([click, head, bounce])
    stored = store.events.for_message(message)
    assert stored == [head, click, bounce]
    assert stored[0].network == "" and stored[2].network is None  # looked up, or never
    assert store.events.for_message(message, limit=1) == [head]
    assert store.events.counts(message) == {
        ("click", "machine"): 1,
        ("open", "unknown"): 1,
        ("bounce", "unknown"): 1,
    }
    assert store.events.count() == 3


def test_an_event_stored_twice_is_kept_once(store: Store) -> None:
    event = _event(new_message_id(), EventKind.OPEN, 1_790_000_050.0)
    store.events.insert([event])
    store.events.insert([event])
    assert store.events.count() == 1


def test_empty_batch_is_a_no_op(store: Store) -> None:
    store.events.insert([])
    assert store.events.count() == 0


def test_migrations_are_idempotent(database_url: str) -> None:
    first = Store(database_url)
    first.database.migrate()
    first.database.migrate()
    first.close()
    second = Store(database_url)
    assert second.events.count() == 0
    second.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://x:secret@127.0.0.1:9/none",  # nothing listens on port 9
        "sqlite:////proc/no-such-dir/inkling.db",  # cannot be created
    ],
)
def test_an_unreachable_database_is_unavailable_without_its_password(url: str) -> None:
    store = Store(url)  # connects to nothing yet: a node starts without its database
    try:
        with pytest.raises(StoreUnavailable) as raised:
            store.messages.find("<a@b>")
        assert "secret" not in str(raised.value)
        assert "unavailable" in str(raised.value)
    finally:
        store.close()


def test_verdict_changes_update_the_event_and_are_kept_as_history(store: Store) -> None:
    message = new_message_id()
    opened = _event(message, EventKind.OPEN, 1_790_000_100.25, agent=Agent.YAHOO_PROXY)
    store.events.insert([opened])
    clicked = _event(message, EventKind.CLICK, 1_790_000_200.5, verdict=Verdict.HUMAN)
    change = VerdictChange(
        event=opened.id,
        message=message,
        previous=Verdict.UNKNOWN,
        previous_agent=Agent.YAHOO_PROXY,
        verdict=Verdict.HUMAN,
        agent=Agent.YAHOO_PROXY,
        reasons=["a person followed a link 100 s later"],
        changed_at=1_790_000_200.6,
        leanings=["person"],
    )
    store.events.insert([clicked], [change])
    stored = store.events.for_message(message)
    assert [(e.kind, e.verdict) for e in stored] == [
        (EventKind.OPEN, Verdict.HUMAN),
        (EventKind.CLICK, Verdict.HUMAN),
    ]
    assert stored[0].reasons == ["a person followed a link 100 s later"]
    assert stored[0].leanings == ["person"]
    [kept] = store.events.changes(message)
    assert (kept.event, kept.previous, kept.verdict) == (opened.id, Verdict.UNKNOWN, Verdict.HUMAN)


def test_two_events_at_the_same_moment_keep_their_own_history(store: Store) -> None:
    """Two hits of one message with the same time and kind (two people behind one
    address, a scanner's burst) are told apart by their ids, not by message+time+kind."""
    message = new_message_id()
    first = _event(message, EventKind.OPEN, 1_790_000_100.0)
    second = _event(message, EventKind.OPEN, 1_790_000_100.0)
    store.events.insert([first, second])
    change = VerdictChange(
        first.id, message, Verdict.UNKNOWN, None, Verdict.MACHINE, Agent.APPLE_MPP, ["x"], 1.0
    )
    store.events.insert([], [change])
    verdicts = {e.id: e.verdict for e in store.events.for_message(message)}
    assert verdicts == {first.id: Verdict.MACHINE, second.id: Verdict.UNKNOWN}


def test_the_loader_writes_events_and_progress_together(store: Store) -> None:
    message = new_message_id()
    batch = [
        _event(message, EventKind.OPEN, 1_790_000_100.0 + i, ip=None, user_agent=None, link=None)
        for i in range(5)
    ]
    loader = store.events.loader()
    try:
        loader.load(batch, [], [SegmentProgress("00aa11bb22cc33dd", 4096, 5)])
        loader.load(batch, [], [SegmentProgress("00aa11bb22cc33dd", 4096, 5)])  # again: no-op
    finally:
        loader.close()
    assert store.events.for_message(message) == batch  # NULLs stay NULL on both paths
    assert store.events.progress() == {
        "00aa11bb22cc33dd": SegmentProgress("00aa11bb22cc33dd", 4096, 5)
    }


def test_evidence_with_awkward_characters_round_trips(store: Store) -> None:
    """Tabs, newlines, backslashes, quotes and non-Latin text in what clients send survive
    the batch insert (COPY on PostgreSQL, multi-row INSERT on SQLite) unchanged; a NUL,
    which PostgreSQL cannot store, is dropped."""
    message = new_message_id()
    awkward = 'Mozilla/5.0 (X11)\\t"quoted"\\\\ \t tab \n newline — Grüße 東京 \\N'
    event = _event(
        message,
        EventKind.OPEN,
        1_790_000_100.5,
        user_agent=awkward + "\x00",
        evidence={"referer": awkward, "accept-language": "de-DE,de;q=0.9"},
        reasons=[awkward],
    )
    loader = store.events.loader()
    try:
        loader.load([event], [], [])
    finally:
        loader.close()
    [stored] = store.events.for_message(message)
    assert (stored.user_agent, stored.evidence, stored.reasons) == (
        awkward,
        event.evidence,
        [awkward],
    )


def test_head_revision_names_the_newest_migration() -> None:
    """Otherwise every command would run Alembic (a database at the head needs none)."""
    from inkling.store.engine import HEAD_REVISION, MIGRATIONS

    revisions = sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("0*.py"))
    assert revisions[-1] == HEAD_REVISION
