"""How the parser generalises: bounces written by the team after public MTA formats.

The rules were written while looking at the shared corpus, so its 100% is an upper bound.
These samples (``written/bounces/``, see the fixtures README) follow formats the corpus has
few or none of: modern Postfix and Exim DSNs, qmail, sendmail, Microsoft 365 and Exchange,
Gmail, Yahoo, Amazon SES, Mimecast, Proofpoint, Domino, GroupWise, Courier, MDaemon, Zimbra,
delay notices (soft, never failures) and mail that only looks like a bounce. The measures
are those of the corpus tests.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from inkling.inbound import parse_message
from tests.inbound.conftest import WRITTEN

SAMPLES = WRITTEN / "bounces"
LABELS: list[dict[str, Any]] = json.loads((SAMPLES / "labels.json").read_text())
FAILURES = [label for label in LABELS if label["bounce"]]


def _parsed(label: dict[str, Any]) -> dict[str, Any]:
    return parse_message((SAMPLES / label["file"]).read_bytes()).as_json()


def _ids(labels: list[dict[str, Any]]) -> list[str]:
    return [label["file"] for label in labels]


def test_the_samples_are_crlf_and_on_reserved_domains() -> None:
    assert 20 <= len(LABELS) <= 30
    for label in LABELS:
        raw = (SAMPLES / label["file"]).read_bytes()
        assert b"\n" not in raw.replace(b"\r\n", b""), label["file"]
        for address in label["recipients"]:
            domain = address.rsplit("@", 1)[1]
            assert re.search(r"(^|\.)example\.(com|net|org|invalid)$", domain), address


@pytest.mark.parametrize("label", LABELS, ids=_ids(LABELS))
def test_bounce_or_not(label: dict[str, Any]) -> None:
    kind = _parsed(label)["kind"]
    if label["bounce"]:
        assert kind == "bounce"
    else:
        assert kind == label["kind"]


@pytest.mark.parametrize("label", FAILURES, ids=_ids(FAILURES))
def test_every_failed_recipient_found(label: dict[str, Any]) -> None:
    bounce = _parsed(label).get("bounce") or {}
    found = {a.lower() for a in bounce.get("recipients", [])}
    assert {a.lower() for a in label["recipients"]} <= found


@pytest.mark.parametrize("label", FAILURES, ids=_ids(FAILURES))
def test_no_sender_or_system_address_reported(label: dict[str, Any]) -> None:
    bounce = _parsed(label).get("bounce") or {}
    for address in bounce.get("recipients", []):
        assert "support.example.com" not in address.lower()
        assert not address.lower().startswith(("mailer-daemon@", "postmaster@"))


@pytest.mark.parametrize("label", FAILURES, ids=_ids(FAILURES))
def test_a_temporary_failure_is_not_final(label: dict[str, Any]) -> None:
    bounce = _parsed(label).get("bounce") or {}
    assert bounce.get("final") is not label["temporary"]


@pytest.mark.parametrize("label", FAILURES, ids=_ids(FAILURES))
def test_status_code_is_plausible_and_matches_the_class(label: dict[str, Any]) -> None:
    bounce = _parsed(label).get("bounce") or {}
    status = str(bounce.get("status", ""))
    assert re.fullmatch(r"[45]\.[0-7]\.\d{1,3}", status)
    assert status[0] == ("4" if label["temporary"] else "5")
    assert bounce["reason"]


@pytest.mark.parametrize(
    "label",
    [x for x in LABELS if "original_message_id" in x],
    ids=_ids([x for x in LABELS if "original_message_id" in x]),
)
def test_original_message_id(label: dict[str, Any]) -> None:
    assert _parsed(label)["in_reply_to"] == label["original_message_id"]


WITH_REPORT = [
    x for x in FAILURES if b"message/delivery-status" in (SAMPLES / x["file"]).read_bytes()
]


@pytest.mark.parametrize("label", WITH_REPORT, ids=_ids(WITH_REPORT))
def test_the_words_alone_suffice_when_a_relay_drops_the_report(label: dict[str, Any]) -> None:
    """Gateways re-wrap or strip the delivery-status part: the notice's words must do."""
    raw = (SAMPLES / label["file"]).read_bytes()
    raw = re.sub(rb"(?i)content-type: message/delivery-status", b"Content-Type: text/x-gone", raw)
    raw = re.sub(rb"(?i)multipart/report;\s*report-type=delivery-status;", b"multipart/mixed;", raw)
    bounce = parse_message(raw).as_json().get("bounce") or {}
    assert {a.lower() for a in label["recipients"]} <= {a.lower() for a in bounce["recipients"]}
    assert bounce["final"] is not label["temporary"]


def test_auto_submitted_and_a_failure_sentence_make_a_notice_whoever_sent_it() -> None:
    """A relay that rewrites the sender and subject of Gmail's notice, threaded onto the
    mail: Auto-Submitted says no person wrote "Your message wasn't delivered to"."""
    raw = (SAMPLES / "gmail_address_not_found_words.eml").read_bytes()
    raw = re.sub(rb"(?im)^(Return-Path|X-Failed-Recipients):[^\r]*\r\n", b"", raw)
    raw = re.sub(rb"(?im)^From:[^\r]*", b"From: Notifications <notify@mail.example.com>", raw)
    raw = re.sub(rb"(?im)^Subject:[^\r]*", b"Subject: Re: Your refund", raw)
    parsed = parse_message(raw).as_json()
    assert parsed["kind"] == "bounce"
    assert parsed["bounce"]["recipients"] == ["ines.moreau@example.com"]
    assert parsed["bounce"]["class"] == "hard"
