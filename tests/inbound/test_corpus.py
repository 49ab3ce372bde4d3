"""Real bounces and a real read receipt, against their labels."""

from __future__ import annotations

import re
from typing import Any

import pytest

from inkling.inbound import parse_message
from tests.inbound.conftest import BOUNCES, MDN, bounce_labels

LABELS = bounce_labels()
FAILURES = [label for label in LABELS if label["bounce"]]
# flufl.bounce's Yale detector adds "NAME@cs.yale.edu" because the notice's help text
# suggests it; no failed address says so, and Inkling does not guess it.
GUESSED_BY_LABEL = {("messages/yale_01.txt", "thomas.dtankengine@cs.yale.edu")}


def _parsed(label: dict[str, Any]) -> dict[str, Any]:
    return parse_message((BOUNCES / label["file"]).read_bytes()).as_json()


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_bounce_or_not(label: dict[str, Any]) -> None:
    kind = _parsed(label)["kind"]
    if label["bounce"]:
        assert kind == "bounce"
    else:
        assert kind == "delivered"  # the one non-failure in the corpus is a relayed DSN


@pytest.mark.parametrize("label", FAILURES, ids=[label["file"] for label in FAILURES])
def test_every_failed_recipient_found(label: dict[str, Any]) -> None:
    found = {a.lower() for a in _parsed(label)["bounce"]["recipients"]}
    wanted = {a.lower() for a in label["recipients"]}
    wanted -= {a.lower() for f, a in GUESSED_BY_LABEL if f == label["file"]}
    assert found - {a.lower() for f, a in GUESSED_BY_LABEL if f == label["file"]} == wanted


@pytest.mark.parametrize(
    "label",
    [x for x in FAILURES if "temporary" in x],
    ids=[x["file"] for x in FAILURES if "temporary" in x],
)
def test_a_temporary_failure_is_not_final(label: dict[str, Any]) -> None:
    bounce = _parsed(label)["bounce"]
    assert bounce["final"] is not label["temporary"]


@pytest.mark.parametrize("label", FAILURES, ids=[label["file"] for label in FAILURES])
def test_status_code_is_well_formed_and_matches_the_class(label: dict[str, Any]) -> None:
    bounce = _parsed(label)["bounce"]
    assert re.fullmatch(r"[45]\.[0-7]\.\d{1,3}", bounce["status"])
    assert bounce["reason"]


@pytest.mark.parametrize(
    "label",
    [x for x in LABELS if "original_message_id" in x],
    ids=[x["file"] for x in LABELS if "original_message_id" in x],
)
def test_original_message_id(label: dict[str, Any]) -> None:
    assert _parsed(label)["in_reply_to"] == label["original_message_id"]


def test_exchange_read_receipt() -> None:
    receipt = parse_message((MDN / "ms_exchange_report_disposition_notification.eml").read_bytes())
    original = parse_message((MDN / "ms_exchange_report_original_message.eml").read_bytes())
    assert receipt.kind == "mdn"
    assert receipt.mdn is not None
    assert receipt.mdn.disposition == "displayed"
    assert receipt.mdn.automatic is True
    message_id = re.search(
        rb"^Message-ID:\s*(<[^>]+>)",
        (MDN / "ms_exchange_report_original_message.eml").read_bytes(),
        re.IGNORECASE | re.MULTILINE,
    )
    assert message_id is not None
    assert receipt.in_reply_to == message_id.group(1).decode()
    assert original.kind != "mdn"
