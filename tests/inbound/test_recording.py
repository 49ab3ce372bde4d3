"""Inbound mail becomes an event on the copy it answers, on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkling.inbound.recording import InboundRecorder
from inkling.mail.returnpath import ReturnKind, return_address
from inkling.model import EventKind, MessageIdHeader, MessageRecord, Verdict
from inkling.signals.reading import read_message
from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id
from tests.conftest import FIXTURES

INBOUND = FIXTURES / "inbound"
RETURN_DOMAIN = "return.acme.example"
REPLY_TO = "<ticket-5310.reply-1@support.example.com>"


def _sent(store: Store, message_id: str, recipient: str = "") -> MessageRecord:
    header = MessageIdHeader(message_id)
    record = MessageRecord(
        new_message_id(), header, None, "5310", "Re", 1_796_000_000, 0, recipient=recipient
    )
    store.messages.register_all([(record, [])])
    return record


@pytest.fixture
def recorder(store: Store, codec: TokenCodec) -> InboundRecorder:
    return InboundRecorder(store, codec, RETURN_DOMAIN, via="SMTP")


def _read(path: Path) -> bytes:
    return path.read_bytes()


def test_a_real_bounce_matched_by_message_id_says_nobody_will_read_it(
    store: Store, recorder: InboundRecorder
) -> None:
    sent = _sent(store, "<CABXKi8zruXJc_6e4Dr087H5wE7sLp+u250o0N2q5DdjF_r-8wg@mail.gmail.com>")
    event = recorder.deliver(_read(INBOUND / "bounces" / "ndn" / "gmail_ndn.eml"))
    assert event is not None and event.message == sent.id
    assert (event.kind, event.verdict, event.agent) == (EventKind.BOUNCE, Verdict.MACHINE, "bounce")
    reading = read_message(store, sent.id)
    assert reading.state == "bounced"
    assert "it bounced (5.1.1 userunknown): nobody will read it" in reading.sentence


def test_a_bounce_to_the_verp_address_finds_its_copy_without_a_message_id(
    store: Store, codec: TokenCodec, recorder: InboundRecorder
) -> None:
    ann = _sent(store, "<cc@acme.example>", "ann@customer.example")
    _sent(store, "<cc@acme.example>", "bob@customer.example")
    verp = return_address(codec, ann.id, ann.sent_at, ReturnKind.BOUNCE, RETURN_DOMAIN)
    event = recorder.deliver(_read(INBOUND / "written" / "dsn_delayed.eml"), [verp])
    assert event is not None and event.message == ann.id
    assert (event.details["final"], event.details["class"]) == ("false", "soft")


def test_a_reply_goes_to_the_copy_of_the_person_who_wrote_it(
    store: Store, recorder: InboundRecorder
) -> None:
    _sent(store, REPLY_TO, "someone.else@customer.example.org")
    priya = _sent(store, REPLY_TO, "priya.raman@customer.example.org")
    event = recorder.deliver(_read(INBOUND / "written" / "customer_reply.eml"))
    assert event is not None and event.message == priya.id
    assert (event.kind, event.verdict) == (EventKind.REPLY, Verdict.HUMAN)
    reading = read_message(store, priya.id)
    assert reading.state == "replied"
    assert reading.sentence.startswith("The customer replied")


def test_an_out_of_office_is_a_machine_with_its_return_date(
    store: Store, recorder: InboundRecorder
) -> None:
    sent = _sent(store, REPLY_TO)
    event = recorder.deliver(_read(INBOUND / "written" / "autoreply_en.eml"))
    assert event is not None and event.verdict == Verdict.MACHINE
    assert event.details["until"] == "2026-12-01"
    assert "an automatic reply came back (back 2026-12-01)" in read_message(store, sent.id).sentence


def test_a_read_receipt_is_a_person_displaying_it(store: Store, recorder: InboundRecorder) -> None:
    sent = _sent(store, "<d5904dc344eeb5deaf9bb44603f0c716@posteo.de>")
    event = recorder.deliver(
        _read(INBOUND / "mdn" / "ms_exchange_report_disposition_notification.eml")
    )
    assert event is not None and event.message == sent.id
    assert (event.kind, event.verdict, event.agent) == (
        EventKind.READ_RECEIPT,
        Verdict.HUMAN,
        "read_receipt",
    )


def test_mail_that_answers_nothing_of_ours_records_nothing(
    store: Store, recorder: InboundRecorder
) -> None:
    assert recorder.deliver(_read(INBOUND / "written" / "customer_reply.eml")) is None
    assert recorder.deliver(_read(INBOUND / "written" / "garbage.bin")) is None
    assert store.events.count() == 0
