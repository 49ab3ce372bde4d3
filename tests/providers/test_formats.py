"""Providers' payloads, as their docs show them (tests/fixtures/providers), read by the
tables of formats.toml: each event on the right copy, with the right kind, time, client
and bounce facts, and the provider's own machine flag kept as evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inkling.classify import Classifier
from inkling.model import Event, EventKind, MessageIdHeader, MessageRecord, Verdict
from inkling.providers import Importer, read_file
from inkling.providers.formats import convert
from inkling.providers.importer import PROVIDER_BOT
from inkling.providers.lines import EventLine
from inkling.store import Store
from inkling.tokens import new_message_id
from tests.conftest import FIXTURES

PAYLOADS = FIXTURES / "providers"


def _payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def _line(path: Path) -> bytes:
    return json.dumps(json.loads(path.read_text())).encode() + b"\n"


@pytest.fixture(scope="module")
def importer_for() -> Any:
    classifier = Classifier()
    return lambda store: Importer(store, classifier)


def _register(store: Store, message_id: str, recipient: str, links: list[str]) -> MessageRecord:
    record = MessageRecord(
        new_message_id(), MessageIdHeader(message_id), None, "1", "Hi", 1_500_000_000,
        len(links), recipient,
    )  # fmt: skip
    store.messages.register(record, links)
    return record


def _events(store: Store, record: MessageRecord) -> dict[EventKind, list[Event]]:
    found: dict[EventKind, list[Event]] = {}
    for event in store.events.for_message(record.id):
        found.setdefault(event.kind, []).append(event)
    return found


def test_sendgrid_batch(store: Store, importer_for: Any) -> None:
    record = _register(
        store, "<14c5d75ce93.dfd.64b469@ismtpd-555>", "example@test.com",
        ["http://www.sendgrid.com/"],
    )  # fmt: skip
    result = importer_for(store).run(
        read_file(_line(PAYLOADS / "sendgrid-events.json"), "sendgrid")
    )
    # processed, unsubscribe and group_unsubscribe are not Inkling's to record
    assert (result.imported, result.ignored, result.bad) == (8, 3, [])
    found = _events(store, record)
    assert [len(found[k]) for k in (EventKind.OPEN, EventKind.CLICK, EventKind.BOUNCE)] == [2, 1, 3]
    machine_open = next(e for e in found[EventKind.OPEN] if e.network == "apple_relay")
    assert machine_open.evidence[PROVIDER_BOT] == "sendgrid: true"
    assert machine_open.verdict is Verdict.MACHINE
    assert found[EventKind.CLICK][0].link == 0
    finals = sorted(e.details["final"] for e in found[EventKind.BOUNCE])
    assert finals == ["false", "true", "true"]  # deferred is no final bounce
    assert found[EventKind.COMPLAINT][0].verdict is Verdict.HUMAN


def test_mailgun_open_failure_and_bot_flag(store: Store, importer_for: Any) -> None:
    record = _register(
        store, "<20130503182626.18666.16540@sandbox.mailgun.org>", "alice@example.com", []
    )
    data = b"".join(
        _line(PAYLOADS / n)
        for n in ("mailgun-opened.json", "mailgun-opened-apple.json", "mailgun-failed.json")
    )
    result = importer_for(store).run(read_file(data, "mailgun"))
    assert (result.imported, result.bad) == (3, [])
    found = _events(store, record)
    bounce = found[EventKind.BOUNCE][0].details
    assert (bounce["status"], bounce["reason"], bounce["class"], bounce["final"]) == (
        "5.1.1",
        "userunknown",
        "hard",
        "true",
    )
    assert "does not exist" in bounce["diagnostic"]
    flagged = [e.evidence.get(PROVIDER_BOT) for e in found[EventKind.OPEN]]
    assert sorted(flagged, key=str) == [None, "mailgun: apple"]
    assert {e.ip for e in found[EventKind.OPEN]} == {"50.56.129.0", "104.28.28.0"}


def test_postmark_records_by_metadata(store: Store, importer_for: Any) -> None:
    record = _register(
        store, "<welcome-1@help.example>", "john@example.com", ["https://example.com"]
    )
    names = ("postmark-open.json", "postmark-click.json", "postmark-bounce.json",
             "postmark-delivery.json")  # fmt: skip
    data = b"".join(_line(PAYLOADS / n) for n in names)
    result = importer_for(store).run(read_file(data, "postmark"))
    assert (result.imported, result.bad) == (4, [])
    found = _events(store, record)
    click = found[EventKind.CLICK][0]
    # judged by the whole address's network (Google's cloud), stored truncated
    assert (click.link, click.network, click.ip) == (0, "google", "8.8.8.0")
    assert any("Google's published ranges" in reason for reason in click.reasons)
    assert found[EventKind.OPEN][0].ts == pytest.approx(1572971634.907)
    assert found[EventKind.BOUNCE][0].details["class"] == "hard"
    assert found[EventKind.DELIVERED][0].verdict is Verdict.MACHINE


def test_ses_events_with_and_without_their_sns_envelope(store: Store, importer_for: Any) -> None:
    record = _register(store, "<ses-1@help.example>", "recipient@example.com", [])
    bare = _payload("ses-open.json")
    wrapped = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(bare)}
    data = json.dumps(wrapped).encode() + b"\n" + _line(PAYLOADS / "ses-click.json")
    data += _line(PAYLOADS / "ses-bounce.json") + json.dumps(bare).encode() + b"\n"
    result = importer_for(store).run(read_file(data, "ses"))
    assert (result.imported, result.duplicates, result.bad) == (3, 1, [])
    found = _events(store, record)
    click = found[EventKind.CLICK][0]
    assert click.link is None  # a link Inkling was not told of is kept, unnumbered
    assert click.details["url"].startswith("http://docs.aws.amazon.com/")
    assert found[EventKind.BOUNCE][0].details["reason"] == "userunknown"


@pytest.mark.parametrize(
    ("provider", "payload", "error"),
    [
        ("sendgrid", {"email": "a@b.example"}, "not a sendgrid event: no event"),
        ("sendgrid", {"event": "open", "timestamp": 1}, "sendgrid event names no message"),
        ("mailgun", {"event-data": {"event": "opened", "message": {"headers": {
            "message-id": "x@y"}}}}, "mailgun opened event: 'ts' is required"),
        ("postmark", [], "an event must be a JSON object"),
    ],
)  # fmt: skip
def test_a_payload_that_is_not_an_event_says_why(provider: str, payload: Any, error: str) -> None:
    from inkling.errors import IntakeError

    with pytest.raises(IntakeError, match="^" + error):
        convert(provider, payload)


def test_a_delay_is_a_bounce_that_is_not_final() -> None:
    line = convert("ses", {
        "eventType": "DeliveryDelay",
        "mail": {"commonHeaders": {"messageId": "<d@x>"}, "timestamp": "2026-12-01T00:00:00Z"},
        "deliveryDelay": {"delayType": "MailboxFull", "timestamp": "2026-12-01T01:00:00Z",
                          "delayedRecipients": [
                              {"emailAddress": "a@b.example", "status": "4.2.2"}]},
    })  # fmt: skip
    assert isinstance(line, EventLine)
    assert (line.kind, line.recipient) == (EventKind.BOUNCE, "a@b.example")
    assert (line.details["final"], line.details["reason"], line.details["owner"]) == (
        "false",
        "mailboxfull",
        "customer",
    )
