"""What a bounce tells a support agent: final or not, hard or soft, the reason and the owner.

The reports are built here in the RFC 3464 shape with the replies MTAs publish, so each
test names the one thing it varies.
"""

from __future__ import annotations

from typing import Any

import pytest

from inkling.inbound import parse_message


def _report(action: str, status: str, diagnostic: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: agent@help.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered to ana@customer.example.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; ana@customer.example\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        "--b--\r\n"
    ).encode()


def _bounce(action: str, status: str, diagnostic: str) -> dict[str, Any]:
    parsed = parse_message(_report(action, status, diagnostic)).as_json()
    assert parsed["kind"] == "bounce"
    bounce: dict[str, Any] = parsed["bounce"]
    assert bounce["recipients"] == ["ana@customer.example"]
    return bounce


CASES = [
    # Postfix, a missing mailbox at RCPT: the agent fixes the address.
    (
        "5.1.1",
        "550 5.1.1 <ana@customer.example>: Recipient address rejected: User unknown in "
        "virtual mailbox table (in reply to RCPT TO command)",
        ("userunknown", "hard", "agent"),
    ),
    # Gmail, a full mailbox: the customer has to make room.
    (
        "5.2.2",
        "552-5.2.2 The email account that you tried to reach is over quota.",
        ("mailboxfull", "soft", "customer"),
    ),
    # Gmail, no SPF/DKIM: our own sending must be fixed.
    (
        "5.7.26",
        "550-5.7.26 This mail is unauthenticated, which poses a security risk to the sender "
        "and Gmail users, and has been blocked.",
        ("authfailure", "soft", "sender"),  # sisimai 5's word (splits.toml)
    ),
    # Our sending host has no reverse DNS: sisimai 5's requireptr, our sending to fix.
    (
        "5.7.25",
        "550-5.7.25 The IP address sending this message does not have a PTR record setup, "
        "or the corresponding forward DNS entry does not point to the sending IP.",
        ("requireptr", "soft", "sender"),
    ),
    # Gmail refuses our domain's reputation: sisimai 5's badreputation.
    (
        "5.7.1",
        "550-5.7.1 Our system has detected that this message is likely suspicious due to the "
        "very low reputation of the sending domain.",
        ("badreputation", "soft", "sender"),
    ),
    # A block list names our sending IP address: our sending again.
    (
        "5.7.1",
        "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org",
        ("blocked", "soft", "sender"),
    ),
    # Office 365's own code for a missing mailbox (RFC 3463 would read 5.1.10 as a null MX).
    (
        "5.1.10",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        ("userunknown", "hard", "agent"),
    ),
    # A domain that does not exist: the address is wrong.
    (
        "5.1.2",
        "Host or domain name not found. Name service error for name=customer.example",
        ("hostunknown", "hard", "agent"),
    ),
    # RFC 7505 null MX, given permanently: the domain takes no mail, the address is wrong.
    (
        "5.1.10",
        "556 5.1.10 Recipient address has null MX",
        ("notaccept", "hard", "agent"),
    ),
]


@pytest.mark.parametrize(
    ("status", "diagnostic", "wanted"), CASES, ids=[f"{c[0]}-{c[2][0]}" for c in CASES]
)
def test_reason_class_and_owner_of_a_failure(
    status: str, diagnostic: str, wanted: tuple[str, str, str]
) -> None:
    bounce = _bounce("failed", status, diagnostic)
    assert (bounce["reason"], bounce["class"], bounce["owner"]) == wanted
    assert bounce["final"] is True
    assert bounce["status"] == status


def test_a_delay_notice_is_not_final_and_the_address_may_be_fine() -> None:
    bounce = _bounce("delayed", "4.4.7", "Connection timed out")
    assert bounce["final"] is False
    assert (bounce["class"], bounce["owner"]) == ("soft", "transient")


def test_a_missing_mailbox_in_a_delay_notice_is_still_a_wrong_address() -> None:
    """``final`` says whether the mail system still tries; ``class`` whether the address is
    wrong: the two answer separate questions."""
    bounce = _bounce(
        "delayed",
        "4.1.1",
        "450 4.1.1 <ana@customer.example>: Recipient address rejected: User unknown "
        "(in reply to RCPT TO command)",
    )
    assert (bounce["final"], bounce["class"], bounce["owner"]) == (False, "hard", "agent")


def test_a_null_mx_given_for_now_is_soft() -> None:
    bounce = _bounce("failed", "4.3.2", "421 4.3.2 host does not accept mail")
    assert (bounce["reason"], bounce["class"]) == ("notaccept", "soft")


def test_a_user_unknown_reply_to_the_message_body_is_a_filter() -> None:
    """sisimai's rule: a "user unknown" answer after DATA comes from a content filter (the
    mailbox was accepted at RCPT), so the address is not shown to be wrong."""
    bounce = _bounce("failed", "5.0.0", "550 user unknown (in reply to end of DATA command)")
    assert (bounce["reason"], bounce["class"], bounce["owner"]) == ("filtered", "soft", "customer")


def test_an_exim_delay_warning_is_expired_whatever_the_remote_code() -> None:
    """Exim's warning quotes the last refusal ("Delay reason: ... 451 4.7.1 greylisted"):
    the mail is still queued, so the reason is the wait, not the greylisting."""
    bounce = _bounce(
        "delayed",
        "4.7.1",
        "This message was created automatically by mail delivery software. Delay reason: "
        "SMTP error from remote mail server after RCPT TO:<ana@customer.example>: "
        "451 4.7.1 Greylisted, please try again later",
    )
    assert (bounce["final"], bounce["reason"], bounce["owner"]) == (False, "expired", "transient")


def test_a_status_comment_is_read_when_there_is_no_diagnostic_code() -> None:
    raw = _report("failed", "5.0.0 (recipient reached disk quota)", "")
    raw = raw.replace(b"Diagnostic-Code: smtp; \r\n", b"")
    bounce = parse_message(raw).as_json()["bounce"]
    assert bounce["reason"] == "mailboxfull"
