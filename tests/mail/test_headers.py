"""Header fields read from raw mail: decoded only with text charsets, addresses read from
the field as written."""

from __future__ import annotations

import pytest

from inkling.mail.headers import first_address, first_value


def _mail(field: bytes) -> bytes:
    return field + b"\r\nSubject: x\r\n\r\nbody\r\n"


def test_an_encoded_display_name_cannot_change_the_address() -> None:
    # decoded first, the name's comma would split "Grüße, Ann" off as an address
    raw = _mail(b"From: =?utf-8?q?Gr=C3=BC=C3=9Fe=2C_Ann?= <s@acme.example>")
    assert first_address(raw, "from") == "s@acme.example"
    assert first_value(raw, "from") == "Grüße, Ann <s@acme.example>"


@pytest.mark.parametrize(
    ("field", "text"),
    [
        (b"Subject: =?rot13?q?uryyb?=", "=?rot13?q?uryyb?="),  # no text encoding: as written
        (b"Subject: =?zlib?b?eJzLSM3JyQcABiwCFQ==?=", "=?zlib?b?eJzLSM3JyQcABiwCFQ==?="),
        (b"Subject: =?utf-8?b?YWJjZ?=", "=?utf-8?b?YWJjZ?="),  # broken base64
        (b"Subject: =?utf-7?q?+2AA-?=", "\ufffd"),  # a lone surrogate, replaced
        (b"Subject: =?unicode-escape?q?a=5Cx00b?=", "ab"),  # a NUL no store can keep
    ],
)
def test_header_text_is_always_storable(field: bytes, text: str) -> None:
    raw = field + b"\r\n\r\nbody\r\n"
    assert first_value(raw, "subject") == text
