"""Charsets and boundaries that name no character set: read anyway, and said in defects.

Python's codec registry knows ``rot13``, ``base64``, ``zlib`` and ``punycode``; the stdlib
raises on a charset with a NUL or naming punycode in places a parser does not expect
(decoding an 8-bit body, reading a boundary given in RFC 2231 form), which used to cost
the whole message ("not parseable as mail").
"""

from __future__ import annotations

import pytest

from inkling.inbound import Parsed, parse_message

HEADERS = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
    b"To: agent@help.example\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
)
# 8-bit text: the stdlib decodes it in the declared charset as soon as it is asked for.
WORDS = (
    "Delivery to ana@customer.example failed permanently: 550 5.1.1 user unknown. Merci, café."
).encode()
NOT_A_CHARSET = "is not a character set: read as UTF-8, else Latin-1"


def _text_part(charset: bytes) -> bytes:
    return HEADERS + b"Content-Type: text/plain; " + charset + b"\r\n\r\n" + WORDS + b"\r\n"


def _multipart(boundary_parameter: bytes, boundary: bytes = b"b") -> bytes:
    return (
        HEADERS + b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; " + boundary_parameter + b"\r\n\r\n"
        b"--"
        + boundary
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + WORDS
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )


def _read_as_a_bounce(parsed: Parsed) -> None:
    assert parsed.kind == "bounce", parsed
    assert parsed.bounce is not None
    assert parsed.bounce.recipients == ("ana@customer.example",)
    assert parsed.bounce.reason == "userunknown"


@pytest.mark.parametrize(
    ("parameter", "shown"),
    [
        (b"charset=rot13", "'rot13'"),
        (b"charset=base64", "'base64'"),
        (b"charset=zlib", "'zlib'"),
        (b"charset=punycode", "'punycode'"),
        (b"charset=idna", "'idna'"),
        (b"charset=unicode_escape", "'unicode_escape'"),
        (b'charset="utf-8\x00"', "'utf-8\\x00'"),
        (b"charset=x-no-such-charset", "'x-no-such-charset'"),
        (b"charset*=utf-8''ut%00f-8", "'ut\\x00f-8'"),
    ],
)
def test_a_text_part_whose_charset_is_no_character_set_is_read_and_said(
    parameter: bytes, shown: str
) -> None:
    parsed = parse_message(_text_part(parameter))
    _read_as_a_bounce(parsed)
    assert parsed.defects == (f"charset {shown} {NOT_A_CHARSET}",)


@pytest.mark.parametrize(
    "parameter", [b"charset*=utf-8%00''utf-8", b"charset*=punycode''utf-8", b"charset*=zlib''x"]
)
def test_an_rfc_2231_charset_naming_no_character_set_is_read_as_ascii(parameter: bytes) -> None:
    parsed = parse_message(_text_part(parameter))
    _read_as_a_bounce(parsed)
    assert "an RFC 2231 parameter names no character set: read as US-ASCII" in parsed.defects


@pytest.mark.parametrize(
    "parameter",
    [
        b"boundary*=utf-8%00''b",
        b"boundary*=punycode''b",
        b"boundary*=idna''b",
        b"boundary*0*=rot13''b",
    ],
)
def test_a_boundary_in_rfc_2231_form_with_a_hostile_charset_still_splits_the_parts(
    parameter: bytes,
) -> None:
    parsed = parse_message(_multipart(parameter))
    _read_as_a_bounce(parsed)
    assert parsed.defects == ("an RFC 2231 parameter names no character set: read as US-ASCII",)


@pytest.mark.parametrize(
    "boundary", ["€€".encode(), "ü".encode("latin-1"), "日本".encode(), "ü".encode()]
)
def test_a_boundary_outside_ascii_is_said(boundary: bytes) -> None:
    parsed = parse_message(_multipart(b'boundary="' + boundary + b'"', boundary))
    assert parsed.kind == "bounce"  # the headers still say it: a mail system's failure notice
    assert "a multipart boundary is not ASCII (RFC 2046 §5.1.1): its parts were not found" in (
        parsed.defects
    )


def test_a_boundary_outside_latin_1_in_rfc_2231_form_is_said() -> None:
    raw = _multipart(b"boundary*=utf-8''%E2%82%AC", "€".encode())
    parsed = parse_message(raw)
    assert parsed.kind == "bounce"
    assert any("boundary is not ASCII" in d for d in parsed.defects)


@pytest.mark.parametrize("charset", [b"rot13", b"zlib", b"base64", b"punycode", b"utf-8\x00"])
def test_an_encoded_word_naming_no_character_set_is_read_and_said(charset: bytes) -> None:
    subject = b"Subject: =?" + charset + b"?q?Undelivered?= Mail Returned to Sender"
    raw = HEADERS.replace(b"Subject: Undelivered Mail Returned to Sender", subject)
    parsed = parse_message(raw + b"Content-Type: text/plain\r\n\r\n" + WORDS)
    _read_as_a_bounce(parsed)
    assert "subject of a failure notice" in parsed.evidence  # read as UTF-8: "Undelivered"
    assert parsed.defects == (
        f"an encoded word in 'Subject' names charset {charset.decode()!r}, "
        "which is not a character set: read as UTF-8, else Latin-1",
    )


def test_a_character_split_across_two_encoded_words_is_joined_before_decoding() -> None:
    # "Недоставленное сообщение" in UTF-8, base64, cut inside the two bytes of its second letter
    subject = (
        b"Subject: =?utf-8?b?0J3Q?=\r\n"
        b" =?utf-8?b?tdC00L7RgdGC0LDQstC70LXQvdC90L7QtSDRgdC+0L7QsdGJ0LXQvdC40LU=?="
    )
    raw = HEADERS.replace(b"Subject: Undelivered Mail Returned to Sender", subject)
    parsed = parse_message(raw + b"Content-Type: text/plain\r\n\r\n" + WORDS)
    _read_as_a_bounce(parsed)
    assert "subject of a failure notice" in parsed.evidence  # "недоставлен"
    assert parsed.defects == ()
