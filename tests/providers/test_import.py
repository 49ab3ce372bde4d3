"""The events import on each backend: sends registered, hits judged as live ones, mail
events recorded, whole addresses kept nowhere, the same file twice recording nothing new."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from inkling.classify import Classifier
from inkling.model import Agent, EventKind, MessageIdHeader, MessageRecord, Verdict
from inkling.providers import Importer, ImportResult, read_file
from inkling.store import Store
from inkling.tokens import new_message_id

APPLE_PROXY = "104.28.28.5"  # in Apple's iCloud Private Relay egress ranges
PERSON = "81.2.69.160"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SENT = {
    "type": "sent",
    "message": "<a1@help.example>",
    "ticket": "4123",
    "recipient": "ana@customer.example",
    "ts": "2026-12-04T16:00:00+01:00",
    "subject": "Your refund",
    "workflow": "billing",
    "links": ["https://help.example/articles/refunds"],
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier()


def _import(store: Store, classifier: Classifier, lines: list[Any]) -> ImportResult:
    data = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines).encode()
    return Importer(store, classifier).run(read_file(data, "inkling"))


def _day(store: Store, classifier: Classifier) -> ImportResult:
    return _import(
        store,
        classifier,
        [
            SENT,
            {"type": "open", "message": "<a1@help.example>", "ts": "2026-12-04T15:00:09Z",
             "ip": APPLE_PROXY, "ua": "Mozilla/5.0"},
            {"type": "click", "message": "a1@help.example", "ts": "2026-12-04T17:30:00Z",
             "url": "https://help.example/articles/refunds", "ip": PERSON, "ua": CHROME,
             "helpdesk_event": "zd-881"},
            {"type": "reply", "message": "<a1@help.example>", "ts": "2026-12-04T18:00:00Z"},
            {"type": "autoreply", "message": "<a1@help.example>", "ts": 1796400000,
             "until": "2026-12-14"},
        ],
    )  # fmt: skip


def test_a_day_of_mail_is_recorded_and_judged_as_live_hits(
    store: Store, classifier: Classifier
) -> None:
    result = _day(store, classifier)
    assert (result.imported, result.duplicates, result.bad) == (5, 0, [])
    copy = store.messages.find("<a1@help.example>")
    assert (copy.ticket, copy.recipient, copy.subject, copy.workflow) == (
        "4123",
        "ana@customer.example",
        "Your refund",
        "billing",
    )
    assert copy.sent_at == 1796396400 and store.messages.links(copy.id) == [SENT["links"][0]]
    kinds = {e.kind: e for e in store.events.for_message(copy.id)}
    opened, clicked = kinds[EventKind.OPEN], kinds[EventKind.CLICK]
    assert (opened.verdict, opened.agent) == (Verdict.MACHINE, Agent.APPLE_MPP)
    assert opened.network == "apple_relay" and opened.ip == "104.28.28.0"
    assert (clicked.verdict, clicked.link, clicked.sent_at) == (Verdict.HUMAN, 0, copy.sent_at)
    assert kinds[EventKind.REPLY].verdict is Verdict.HUMAN
    assert kinds[EventKind.AUTOREPLY].details["until"] == "2026-12-14"
    # a line with keys of its own is kept whole beside the event (its address truncated)
    assert json.loads(clicked.details["raw"])["helpdesk_event"] == "zd-881"
    assert json.loads(clicked.details["raw"])["ip"] == "81.2.69.0"
    assert "raw" not in opened.details and opened.details["source"] == "inkling"


def test_no_whole_address_is_stored_anywhere(store: Store, classifier: Classifier) -> None:
    _day(store, classifier)
    with store.database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM events")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    # the raw line is kept, but not with the whole address in it
    assert PERSON not in stored and APPLE_PROXY not in stored


def test_the_same_file_twice_records_each_event_once(store: Store, classifier: Classifier) -> None:
    _day(store, classifier)
    again = _day(store, classifier)
    assert (again.imported, again.duplicates, again.bad) == (0, 5, [])
    assert store.events.count() == 4


def test_a_bad_line_is_named_and_costs_nothing_else(store: Store, classifier: Classifier) -> None:
    result = _import(
        store,
        classifier,
        [
            SENT,
            '{"type": "open", "message": ',
            {"type": "open", "message": "<nobody@x.example>", "ts": 1796396500},
            {"type": "click", "message": "<a1@help.example>", "ts": 1796396500, "link": 3},
            {"type": "bounce", "message": "<a1@help.example>", "ts": "yesterday"},
            {"type": "reply", "message": "<a1@help.example>", "ts": 1796396600},
        ],
    )
    assert result.imported == 2
    assert [(b.line, b.error.split(":")[0]) for b in result.bad] == [
        (2, "not JSON"),
        (3, "no message <nobody@x.example>"),
        (4, "'link' 3 is past the 1 link(s) of <a1@help.example>"),
        (5, "'ts' must be ISO 8601 with an offset (2026-12-04T10"),
    ]


def test_copies_of_one_message_id_are_told_apart_by_recipient(
    store: Store, classifier: Classifier
) -> None:
    for to in ("ana@customer.example", "bo@customer.example"):
        record = MessageRecord(
            new_message_id(), MessageIdHeader("<m2@help.example>"), None, "9", "Hi", 100, 0, to
        )
        store.messages.register(record, [])
    result = _import(
        store,
        classifier,
        [
            {"type": "reply", "message": "<m2@help.example>", "ts": 200,
             "recipient": "Bo@Customer.example"},
            {"type": "reply", "message": "<m2@help.example>", "ts": 300},
        ],
    )  # fmt: skip
    assert result.imported == 1
    assert "went out as 2 copies" in result.bad[0].error
    bo = store.messages.find("<m2@help.example>", recipient="bo@customer.example")
    assert [e.kind for e in store.events.for_message(bo.id)] == [EventKind.REPLY]


def test_an_imported_bounce_says_who_can_fix_it(store: Store, classifier: Classifier) -> None:
    _import(
        store,
        classifier,
        [
            SENT,
            {"type": "bounce", "message": "<a1@help.example>", "ts": 1796396500,
             "status": "5.1.1"},
            {"type": "bounce", "message": "<a1@help.example>", "ts": 1796396600,
             "status": "4.2.2"},
            {"type": "bounce", "message": "<a1@help.example>", "ts": 1796396700,
             "reason": "blocked", "owner": "sender", "final": True},
        ],
    )  # fmt: skip
    copy = store.messages.find("<a1@help.example>")
    bounces = [e.details for e in store.events.for_message(copy.id)]
    facts = [(d["reason"], d["class"], d["final"], d["owner"]) for d in bounces]
    assert facts == [
        ("userunknown", "hard", "true", "agent"),
        ("mailboxfull", "soft", "false", "customer"),
        ("blocked", "soft", "true", "sender"),
    ]


def test_a_resent_message_is_a_duplicate_not_a_second_copy(
    store: Store, classifier: Classifier
) -> None:
    first = _import(store, classifier, [SENT, SENT])
    assert (first.imported, first.duplicates) == (1, 1)
    assert len(store.messages.copies_of("<a1@help.example>")) == 1
