"""The team's hand-written samples: complaint, auto-replies, success and delay DSNs, a reply."""

from __future__ import annotations

from inkling.inbound import parse_message
from tests.inbound.conftest import WRITTEN


def _parse(name: str) -> dict[str, object]:
    return parse_message((WRITTEN / name).read_bytes()).as_json()


def test_arf_complaint() -> None:
    assert _parse("arf_complaint.eml") == {
        "kind": "complaint",
        "in_reply_to": "<ticket-4821.reply-3@support.example.com>",
    }


def test_rfc3834_vacation_in_english_with_a_date_without_year() -> None:
    assert _parse("autoreply_en.eml") == {
        "kind": "autoreply",
        "in_reply_to": "<ticket-5310.reply-1@support.example.com>",
        "autoreply": {"kind": "vacation", "until": "2026-12-01"},
    }


def test_vacation_in_german() -> None:
    parsed = _parse("autoreply_de.eml")
    assert parsed["kind"] == "autoreply"
    assert parsed["autoreply"] == {"kind": "vacation", "until": "2026-12-03"}


def test_exchange_automatic_reply_us_date() -> None:
    parsed = _parse("exchange_autoreply.eml")
    assert parsed["kind"] == "autoreply"
    assert parsed["in_reply_to"] == "<ticket-5102.reply-1@support.example.com>"
    assert parsed["autoreply"] == {"kind": "vacation", "until": "2026-12-01"}


def test_success_dsn_is_delivered_not_a_bounce() -> None:
    assert _parse("dsn_delivered.eml") == {
        "kind": "delivered",
        "in_reply_to": "<ticket-5230.reply-4@support.example.com>",
    }


def test_delay_dsn_is_a_soft_bounce_that_is_not_final() -> None:
    # RFC 3463 4.4.1 "no answer from host": sisimai calls it expired (the retries run out).
    assert _parse("dsn_delayed.eml") == {
        "kind": "bounce",
        "in_reply_to": "<ticket-5301.reply-2@support.example.com>",
        "bounce": {
            "final": False,
            "class": "soft",
            "reason": "expired",
            "owner": "transient",
            "status": "4.4.1",
            "recipient": "tomas.novak@firma.example",
            "recipients": ["tomas.novak@firma.example"],
        },
    }


def test_customer_reply() -> None:
    assert _parse("customer_reply.eml") == {
        "kind": "reply",
        "in_reply_to": "<ticket-5310.reply-1@support.example.com>",
    }


def test_garbage_is_other_with_defects() -> None:
    parsed = _parse("garbage.bin")
    assert parsed["kind"] == "other"
    assert parsed["defects"]


def test_truncated_mime_keeps_what_it_can_and_records_the_defect() -> None:
    parsed = _parse("truncated.eml")
    assert parsed["kind"] == "reply"
    assert parsed["in_reply_to"] == "<ticket-5400.reply-1@support.example.com>"
    defects = parsed["defects"]
    assert isinstance(defects, list)
    assert any("boundary" in defect for defect in defects)
