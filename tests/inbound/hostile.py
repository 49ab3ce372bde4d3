"""Hostile inbound mail: each the worst case found for one parser rule, at any size.

Every builder takes ``n`` (how many times its pattern repeats) and returns raw bytes. The
behaviour tests (``test_linear_rules.py``) parse them at one size and check the answer;
``bench/linearity.py`` parses each at ``n`` and ``10 n`` and compares the CPU times. Each
builder says which rule it aims at and what that rule did before it was made linear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

FAILED = b"Delivery to ana@customer.example failed permanently: user unknown."
NOTICE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
    b"To: agent@help.example\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Message-ID: <notice-1@mx.example.net>\r\n"
)


def _text(body: bytes, *, headers: bytes = NOTICE, ctype: bytes = b"text/plain") -> bytes:
    return headers + b"Content-Type: " + ctype + b"; charset=utf-8\r\n\r\n" + body + b"\r\n"


def returned_marker(n: int) -> bytes:
    """Quoted-printable lines of ``=3D`` (a long "=" run once decoded): the marker of the
    returned copy ("==== copy of ...") tried every split of a run (12.5 s at 10,000). The
    second run is a real marker: the address listed after it is the returned mail's."""
    run = b"=3D" * n
    body = (
        b"Your message could not be delivered to ana@customer.example:\r\n"
        b"550 5.1.1 user unknown\r\n" + run + b"\r\n"
    )
    returned = run + b" copy of the original message\r\n  carol@third.example\r\n"
    return (
        NOTICE + b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body + returned
    )


def failure_angle(n: int) -> bytes:
    """``<a@a@a@...`` with no ``>``: the qmail "<address>: " failure entry tried every "@".
    A real entry comes first, and is the only failure phrase of the notice."""
    body = b"Hi. This is the qmail-send program.\r\n\r\n<ana@customer.example>:\r\n"
    return _text(body + b"550 5.1.1 mailbox gone\r\n\r\n<" + b"a@" * n + b"\r\n")


def unclosed_tags(n: int) -> bytes:
    """An HTML notice ending in ``<`` with no ``>``: the tag pattern rescanned from every
    "<". The failed address comes after them, in text that must still be read."""
    body = b"<p>Your message could not be delivered.</p>" + b"<" * n
    return _text(body + b" ana@customer.example: 550 5.1.1 user unknown", ctype=b"text/html")


def unclosed_styles(n: int) -> bytes:
    """``<style>`` opened again and again, never closed: the style remover rescanned. A
    closed style before them is removed (its address is no recipient); the text stays."""
    closed = b"<style>p { color: red } /* owner@style.example */</style>"
    body = closed + b"<style>" * n + b"<p>ana@customer.example: user unknown</p>"
    return _text(body, ctype=b"text/html")


def sender_spaces(n: int) -> bytes:
    """A "from", a long run of spaces, then a word: the sender-side check ("MAIL FROM:<a@b>")
    split the run between its two ``\\s*`` every way for each address after it. The
    sender after "MAIL FROM:" is never a failed recipient; the address after the relay is."""
    body = b"Delivery to the following recipient failed permanently:\r\n\r\n"
    sender = b"MAIL FROM:" + b" " * n + b"<sender@help.example>\r\n"
    relay = b"from" + b" " * n + b"mx.customer.example: <ana@customer.example> 550 5.1.1 unknown"
    return _text(body + sender + relay)


def listed_spaces(n: int) -> bytes:
    """Lines of spaces and an address: the list-entry check split the spaces when a word
    came before the address. The listed one is the failure; the other is only mentioned."""
    body = b"Delivery to the following recipient failed permanently:\r\n\r\n"
    listed = b" " * n + b"ana@customer.example\r\n"
    return _text(body + listed + b" " * n + b"see bob@other.example")


def addresses_on_one_line(n: int) -> bytes:
    """Thousands of addresses on one line: each one rescanned the whole line."""
    body = b"Delivery to the following recipients failed: "
    return _text(body + b", ".join(b"user%d@customer.example" % i for i in range(n)))


def address_lines(n: int) -> bytes:
    """An address a line, each after a word (not a list entry): each one looked back at
    every earlier line for failure words around it."""
    lines = b"\r\n".join(b"  see user%d@customer.example" % i for i in range(n))
    return _text(b"Delivery to the following recipients failed:\r\n\r\n" + lines)


def failure_lines(n: int) -> bytes:
    """Failure sentences line after line: each copied every later line to find a list."""
    line = b"Your message could not be delivered to the following recipients:\r\n\r\n"
    return _text(line * n + b"    ana\r\n")


def bare_names(n: int) -> bytes:
    """Failure sentences each followed by a bare name, and a returned mail received "for"
    as many addresses: each name sorted the whole envelope to find its domain."""
    notice = b"Your message could not be delivered to the following recipients:\r\n\r\n"
    body = b"".join(notice + b"    user%d\r\n\r\n" % i for i in range(n))
    received = b"".join(
        b"Received: from a by b for <user%d@customer.example>; 1 Dec 2026\r\n" % i for i in range(n)
    )
    return (
        NOTICE + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n" + body + b"--b\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + received + b"From: agent@help.example\r\n"
        b"To: team@help.example\r\n\r\nhello\r\n--b--\r\n"
    )


def encoded_words(n: int) -> bytes:
    """A subject of a real encoded word, then ``=?a?q?x`` never closed: the stdlib's
    decoder scanned to the end of the line from every "=?" (quadratic)."""
    subject = b"Subject: =?utf-8?q?Undelivered?= Mail " + b"=?a?q?x" * n
    headers = NOTICE.replace(b"Subject: Undelivered Mail Returned to Sender", subject)
    return _text(FAILED, headers=headers)


def long_report_field(n: int) -> bytes:
    """A delivery report whose Diagnostic-Code is one line of words: the stdlib's header
    folding (used to write a report block back to text) is quadratic in it."""
    return _report(b"Diagnostic-Code: smtp; 550 5.1.1 user unknown " + b"word " * n + b"\r\n")


def folded_report_field(n: int) -> bytes:
    """A Diagnostic-Code folded over many lines: each line was added to a growing string."""
    return _report(b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n" + b" more words\r\n" * n)


def _report(field: bytes) -> bytes:
    return (
        NOTICE + b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; ana@customer.example\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n" + field + b"\r\n--b--\r\n"
    )


def content_type_semicolons(n: int) -> bytes:
    """A Content-Type parameter of ``;`` in quotes: the stdlib's parameter parser counts
    the quotes before every ";" (quadratic); the budget cuts the field at 2 KiB."""
    ctype = b'text/plain; name="' + b";" * n + b'"'
    return _text(b"Delivery to ana@customer.example failed: user unknown.", ctype=ctype)


def nested_parts(n: int) -> bytes:
    """``n`` multiparts, each inside the last: the stdlib checks every line against every
    open boundary and recurses per level; the budget reads 64 containers."""
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(n)
    )
    closing = b"".join(b"\r\n--b%d--" % i for i in reversed(range(n)))
    notice = b"Content-Type: text/plain\r\n\r\n" + FAILED
    return NOTICE + b"MIME-Version: 1.0\r\n" + opening + notice + closing + b"\r\n"


def many_parts(n: int) -> bytes:
    """``n`` small text parts side by side."""
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nuser unknown\r\n"
    return (
        NOTICE + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n"
        b"Delivery to ana@customer.example failed permanently.\r\n" + part * n + b"--b--\r\n"
    )


def comment_from(n: int) -> bytes:
    """A From of nested comments ``((((``: the stdlib's address parser recursed per "(" and
    ran out of stack, which lost the whole message."""
    headers = NOTICE.replace(
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>",
        b"From: MAILER-DAEMON@mx.example.net " + b"(" * n,
    )
    return _text(FAILED, headers=headers)


def long_header_line(n: int) -> bytes:
    """A subject of ``n`` words on one line."""
    headers = NOTICE.replace(b"Subject: Undelivered", b"Subject: " + b"word " * n + b"Undel")
    return _text(FAILED, headers=headers)


def space_run(n: int) -> bytes:
    """A run of spaces and tabs inside the notice's words."""
    body = b"Delivery to" + b" \t" * n + b"ana@customer.example failed permanently: user unknown."
    return _text(body)


def return_phrases(n: int) -> bytes:
    """An out-of-office reply that says "back on" again and again without a date."""
    headers = (
        b"From: Ana <ana@customer.example>\r\nTo: agent@help.example\r\n"
        b"Subject: Automatic reply: your ticket\r\nAuto-Submitted: auto-replied\r\n"
        b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    )
    body = b"I am out of the office. " + b"back on " * n + b"3 December 2026."
    return _text(body, headers=headers)


def references(n: int) -> bytes:
    """A reply whose References field lists ``n`` message ids."""
    ids = b" ".join(b"<m%d@help.example>" % i for i in range(n))
    headers = (
        b"From: Ana <ana@customer.example>\r\nTo: agent@help.example\r\n"
        b"Subject: Re: your ticket\r\nReferences: " + ids + b"\r\n"
    )
    return _text(b"Thanks, that worked.", headers=headers)


def oversized(n: int) -> bytes:
    """A notice followed by ``n`` KiB of returned mail: past the budget nothing is read."""
    body = b"Delivery to ana@customer.example failed permanently: user unknown.\r\n"
    return _text(body + (b"x" * 1023 + b"\n") * n)


def parenthesised_ats(n: int) -> bytes:
    """``(a@a@a@...`` in the diagnostic: sisimai's blocked phrase ``[(][^ ]+[@][^ ]+:blocked[)]``
    split the run at every "@" and rescanned the rest (217 s at 10,000 of them). The real
    reason comes first: a mailbox that is full."""
    body = b"Delivery to ana@customer.example failed permanently: 552 5.2.2 mailbox full.\r\n"
    return _text(body + b"(" + b"a@" * n + b"\r\n")


def angled_ats(n: int) -> bytes:
    """``<a@a@a@...`` before "...blocked by": sisimai's userunknown phrase
    ``[<][^ ]+[@][^ ]+[>]`` tried every split (196 s at 10,000)."""
    body = b"Delivery to ana@customer.example failed permanently: 550 5.1.1 user unknown.\r\n"
    return _text(body + b"<" + b"a@" * n + b"... blocked by\r\n")


@dataclass(frozen=True, slots=True)
class Case:
    """A hostile mail and the size of it that the behaviour test and the bench use.

    ``n`` is chosen so that at ``10 n`` the rules still read all of it (under the size
    budget of ``budget.py``): the bench then measures the rules, not the cut. ``crosses``
    names the budget a case is meant to cross at ``10 n`` instead.
    """

    build: Callable[[int], bytes]
    n: int
    crosses: str = ""


CASES: dict[str, Case] = {
    "returned_marker": Case(returned_marker, 2_500),
    "failure_angle": Case(failure_angle, 2_000),
    "unclosed_tags": Case(unclosed_tags, 3_000),
    "unclosed_styles": Case(unclosed_styles, 800),
    "sender_spaces": Case(sender_spaces, 3_000),
    "listed_spaces": Case(listed_spaces, 3_000),
    "addresses_on_one_line": Case(addresses_on_one_line, 200),
    "address_lines": Case(address_lines, 180),
    "failure_lines": Case(failure_lines, 90),
    "bare_names": Case(bare_names, 70),
    "encoded_words": Case(encoded_words, 200),
    "long_report_field": Case(long_report_field, 1_000),
    "folded_report_field": Case(folded_report_field, 450),
    "content_type_semicolons": Case(content_type_semicolons, 1_000, "Content-* field"),
    "nested_parts": Case(nested_parts, 2),
    "many_parts": Case(many_parts, 50),
    "comment_from": Case(comment_from, 1_500),
    "long_header_line": Case(long_header_line, 300),
    "space_run": Case(space_run, 2_000),
    "return_phrases": Case(return_phrases, 70),
    "references": Case(references, 75),
    "oversized": Case(oversized, 100, "message"),
    "parenthesised_ats": Case(parenthesised_ats, 1_000),
    "angled_ats": Case(angled_ats, 1_000),
}
