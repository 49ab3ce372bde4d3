"""Each rule made linear still says the right thing on the input that used to stall it.

Nothing is timed here (``bench/linearity.py`` measures): these tests parse the worst case
found for each rule (``hostile.py``) at the size the bench starts from and check that the
answer is what a support agent needs, with no exception. Before the rules were rewritten
some of these took seconds; ``comment_from`` lost the whole message.
"""

from __future__ import annotations

import pytest

from inkling.inbound import Parsed, budget, mime, parse_message
from tests.inbound import hostile
from tests.inbound.hostile import CASES

ANA = "ana@customer.example"


def _parse(name: str, n: int | None = None) -> Parsed:
    case = CASES[name]
    return parse_message(case.build(case.n if n is None else n))


def _recipients(parsed: Parsed) -> tuple[str, ...]:
    assert parsed.kind == "bounce", parsed
    assert parsed.bounce is not None
    return parsed.bounce.recipients


def test_a_long_run_of_equals_signs_still_ends_the_notice_at_the_returned_copy() -> None:
    parsed = _parse("returned_marker")
    assert _recipients(parsed) == (ANA,)  # carol is listed after the marker: returned mail
    assert parsed.bounce is not None and parsed.bounce.status == "5.1.1"


def test_a_qmail_entry_is_read_beside_an_unclosed_run_of_at_signs() -> None:
    parsed = _parse("failure_angle")
    assert _recipients(parsed) == (ANA,)
    assert parsed.evidence[0] == f"says '<{ANA}>: '"


def test_text_after_an_unclosed_tag_run_is_still_read() -> None:
    parsed = _parse("unclosed_tags")
    assert _recipients(parsed) == (ANA,)
    assert parsed.bounce is not None and parsed.bounce.reason == "userunknown"


def test_a_closed_style_is_dropped_and_unclosed_ones_eat_no_text() -> None:
    assert _recipients(_parse("unclosed_styles")) == (ANA,)


def test_the_sender_after_mail_from_and_many_spaces_is_not_a_failed_recipient() -> None:
    assert _recipients(_parse("sender_spaces")) == (ANA,)


def test_a_listed_address_after_many_spaces_is_the_failure_not_the_mentioned_one() -> None:
    assert _recipients(_parse("listed_spaces")) == (ANA,)


@pytest.mark.parametrize("name", ["addresses_on_one_line", "address_lines"])
def test_every_listed_address_is_found_in_order(name: str) -> None:
    count = CASES[name].n
    expected = tuple(f"user{i}@customer.example" for i in range(count))
    assert _recipients(_parse(name)) == expected


def test_a_bare_name_after_many_failure_sentences_gets_the_notices_domain() -> None:
    assert _recipients(_parse("failure_lines")) == ("ana@example.net",)


def test_bare_names_get_the_domain_the_returned_mail_was_received_for() -> None:
    count = CASES["bare_names"].n
    expected = tuple(f"user{i}@customer.example" for i in range(count))
    assert _recipients(_parse("bare_names")) == expected


def test_an_encoded_subject_after_unclosed_words_is_decoded() -> None:
    parsed = _parse("encoded_words")
    assert "subject of a failure notice" in parsed.evidence
    assert _recipients(parsed) == (ANA,)


@pytest.mark.parametrize("name", ["long_report_field", "folded_report_field"])
def test_a_delivery_report_with_a_huge_diagnostic_is_read(name: str) -> None:
    parsed = _parse(name)
    assert parsed.bounce is not None
    assert (parsed.bounce.status, parsed.bounce.reason) == ("5.1.1", "userunknown")
    assert _recipients(parsed) == (ANA,)
    assert parsed.evidence == ("delivery report (RFC 3464): Action failed",)


def test_a_content_type_full_of_semicolons_is_cut_and_said() -> None:
    parsed = _parse("content_type_semicolons", 10 * CASES["content_type_semicolons"].n)
    assert _recipients(parsed) == (ANA,)
    assert any("Content-* field" in d for d in parsed.defects)


def test_nested_parts_within_the_budget_are_read() -> None:
    assert _recipients(_parse("nested_parts", mime.MAX_DEPTH)) == (ANA,)


def test_parts_nested_too_deep_are_said_and_the_headers_still_count() -> None:
    parsed = _parse("nested_parts", mime.MAX_DEPTH + 1)
    assert parsed.defects == (f"parts nested more than {mime.MAX_DEPTH} deep were not read",)
    assert parsed.kind == "bounce"  # a mail system's sender and a failure subject


def test_nested_parts_past_the_budget_are_said() -> None:
    parsed = parse_message(hostile.nested_parts(10 * budget.CONTAINERS))
    assert f"more than {budget.CONTAINERS} multipart or message parts" in parsed.defects[0]
    assert parsed.kind == "bounce"


def test_many_parts_are_read() -> None:
    assert _recipients(_parse("many_parts")) == (ANA,)


def test_a_from_of_nested_comments_does_not_lose_the_message() -> None:
    parsed = _parse("comment_from")
    assert _recipients(parsed) == (ANA,)
    assert "sent by a mail system" in parsed.evidence
    assert parsed.defects == ()


@pytest.mark.parametrize("name", ["long_header_line", "space_run", "oversized"])
def test_long_lines_and_runs_are_read(name: str) -> None:
    assert _recipients(_parse(name)) == (ANA,)


def test_an_oversized_message_says_what_was_not_read() -> None:
    parsed = _parse("oversized", 10 * CASES["oversized"].n)
    assert _recipients(parsed) == (ANA,)
    assert parsed.defects[0] == "message longer than 256 KiB: the rest was not read"


def test_a_return_date_after_many_return_phrases_is_found() -> None:
    parsed = _parse("return_phrases")
    assert parsed.kind == "autoreply"
    assert parsed.autoreply is not None
    assert (parsed.autoreply.kind, parsed.autoreply.until) == ("vacation", "2026-12-03")


def test_the_defects_of_one_message_are_bounded() -> None:
    part = b"--b\r\nContent-Type: text/plain\r\nno header separator here\r\n"
    raw = hostile.NOTICE + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    parsed = parse_message(raw + b"".join(part.replace(b"here", b"%d" % i) for i in range(500)))
    assert len(parsed.defects) <= budget.DEFECTS
    assert all(len(d) <= budget.DEFECT_CHARS for d in parsed.defects)


def test_what_the_budget_leaves_unread_is_said() -> None:
    parsed = _parse("oversized", 10 * CASES["oversized"].n)
    assert "a text part is longer than 64 KiB: only its first 65,536 characters were read" in (
        parsed.defects
    )
    long_from = _parse("comment_from", 3 * budget.HEADER_CHARS)
    assert long_from.defects == (
        "the 'From' header is longer than 16 Ki characters: only its start was read",
    )
    long_report = _parse("folded_report_field", 13_500)
    assert long_report.defects == (
        "a report is longer than 64 Ki characters: only its start was read",
    )
    assert _recipients(long_report) == (ANA,)


def test_a_references_field_past_the_budget_is_read_from_its_end() -> None:
    parsed = _parse("references", 3_000)  # 56 KB of message ids
    assert parsed.kind == "reply"
    assert parsed.in_reply_to == "<m2999@help.example>"
    assert parsed.defects == (
        "the 'References' header is longer than 16 Ki characters: only its end was read",
    )
