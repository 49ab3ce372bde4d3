"""The delivery status notification the relay owes a sender when it accepted a message
but the upstream then refused some recipients' copies (RFC 3464, RFC 5321 section 6.1).

That happens only when one copy was already delivered, so the relay could no longer
refuse the whole message without the helpdesk sending it again to everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formatdate, make_msgid

from inkling.mail.headers import header_fields
from inkling.relay.upstream import Reply


def failure_report(
    *,
    reporting_host: str,
    sender: str,
    failures: Sequence[tuple[str, Reply]],
    original: bytes,
) -> bytes:
    """A multipart/report telling ``sender`` which recipients did not get the message,
    with the upstream's reply for each, and the original's header. (Written out by hand:
    :mod:`email` cannot generate message/delivery-status parts it did not parse.)"""
    boundary = make_msgid(domain=reporting_host).strip("<>").replace("@", ".")
    explained = "".join(
        f"  {recipient}: the mail server answered {reply.line}\r\n" for recipient, reply in failures
    )
    statuses = "".join(
        f"\r\nFinal-Recipient: rfc822; {recipient}\r\nAction: failed\r\n"
        f"Status: {_status(reply)}\r\nDiagnostic-Code: smtp; {reply.line}\r\n"
        for recipient, reply in failures
    )
    fields = header_fields(original)
    original_header = original[: fields[-1].end] if fields else b""
    head = (
        f"From: Mail Delivery System <MAILER-DAEMON@{reporting_host}>\r\n"
        f"To: {sender}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {formatdate()}\r\n"
        f"Message-ID: {make_msgid(domain=reporting_host)}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Your message reached some of its recipients, but the mail server refused it for "
        f"these:\r\n\r\n{explained}\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {reporting_host}\r\n{statuses}\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
    )
    return head.encode() + original_header + f"\r\n--{boundary}--\r\n".encode()


def _status(reply: Reply) -> str:
    parts = reply.text.split(maxsplit=1)
    if parts and parts[0].count(".") == 2 and parts[0][0] in "245":
        return parts[0]
    return "5.0.0" if reply.code >= 500 else "4.0.0"
