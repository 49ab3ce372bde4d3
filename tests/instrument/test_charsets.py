"""Mislabelled parts are read as browsers and mail clients read them (WHATWG Encoding
Standard, HTML Standard's meta prescan), so a tracked link lands where the reader would.
"""

from __future__ import annotations

import pytest

from inkling.instrument import instrument_message
from inkling.instrument.charsets import for_part, lookup
from inkling.instrument.prescan import meta_charset
from inkling.tokens import TokenCodec
from tests.instrument.helpers import BASE, CLICK, HONEYPOT, PIXEL, tracked_targets


def _message(content_type: bytes, body: bytes) -> bytes:
    return (
        b"Subject: charset\r\nMessage-ID: <charset@x>\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
    )


def _instrument(codec: TokenCodec, raw: bytes) -> tuple[bytes, list[str]]:
    result = instrument_message(raw, codec=codec, base_url=BASE, message="f" * 20, sent_at=1)
    return result.mime, tracked_targets(codec, result.mime)


def _only_links_changed(original: bytes, output: bytes) -> bool:
    """Between tracker URLs, the output is the original's bytes, in order (the pixel and
    the hidden link taken out)."""
    position = 0
    for piece in CLICK.split(HONEYPOT.sub(b"", PIXEL.sub(b"", output)))[::2]:
        found = original.find(piece, position)
        if found == -1:
            return False
        position = found + len(piece)
    return True


# Labels the Encoding Standard maps to windows-1252: bytes 0x80-0x9F are Windows'
# punctuation, not C1 controls (0x80 is the euro sign, 0x96 an en dash).
@pytest.mark.parametrize("label", [b"iso-8859-1", b"latin1", b"ISO_8859-1", b"l1", b"cp819"])
def test_latin1_labels_read_as_windows_1252(codec: TokenCodec, label: bytes) -> None:
    body = b'<p>Pr\xe9cis :<a href="https://shop.example/\x80?q=a\x96b">voir</a></p>'
    raw = _message(b"text/html; charset=" + label, body)
    output, targets = _instrument(codec, raw)
    assert targets == ["https://shop.example/%E2%82%AC?q=a%E2%80%93b"]
    assert _only_links_changed(raw, output)


@pytest.mark.parametrize("label", [None, b"us-ascii", b"US-ASCII", b"ascii"])
def test_utf8_bytes_without_a_real_label_are_utf8(codec: TokenCodec, label: bytes | None) -> None:
    content_type = b"text/plain" + (b"; charset=" + label if label else b"")
    raw = _message(content_type, "Grüße: https://shop.example/größe?farbe=grün.\r\n".encode())
    output, targets = _instrument(codec, raw)
    assert targets == ["https://shop.example/gr%C3%B6%C3%9Fe?farbe=gr%C3%BCn"]
    assert _only_links_changed(raw, output)
    assert "Grüße: ".encode() in output


@pytest.mark.parametrize("label", [None, b"us-ascii"])
def test_bytes_that_are_not_utf8_without_a_label_are_windows_1252(
    codec: TokenCodec, label: bytes | None
) -> None:
    content_type = b"text/plain" + (b"; charset=" + label if label else b"")
    raw = _message(content_type, b"Gr\xfc\xdfe https://shop.example/gr\xf6\xdfe \x93ok\x94\r\n")
    output, targets = _instrument(codec, raw)
    assert targets == ["https://shop.example/gr%C3%B6%C3%9Fe"]
    assert b"Gr\xfc\xdfe " in output and output.endswith(b" \x93ok\x94\r\n")


@pytest.mark.parametrize(
    "meta",
    [
        b'<meta charset="koi8-r">',
        b"<META CHARSET=KOI8-R>",
        b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">',
        b"<meta content='text/html;charset=\"koi8-r\"' http-equiv=content-type>",
        b'<!-- <meta charset="utf-8"> --><meta charset="bogus"><meta charset="koi8-r">',
    ],
)
def test_html_without_a_mime_charset_uses_its_meta_charset(codec: TokenCodec, meta: bytes) -> None:
    # "\xd0\xd2\xcf" is "про" in KOI8-R (and no UTF-8)
    body = b"<html><head>" + meta + b'</head><body><a href="https://ru.example/\xd0\xd2\xcf">x</a>'
    raw = _message(b"text/html", body)
    output, targets = _instrument(codec, raw)
    assert targets == ["https://ru.example/%D0%BF%D1%80%D0%BE"]
    assert _only_links_changed(raw, output)


def test_a_mime_charset_wins_over_the_meta_charset(codec: TokenCodec) -> None:
    body = b'<meta charset="koi8-r"><a href="https://ru.example/\xd0\xd2\xcf">x</a>'
    raw = _message(b"text/html; charset=windows-1251", body)
    _, targets = _instrument(codec, raw)
    assert targets == [
        "https://ru.example/%D0%A0%D0%A2%D0%9F"
    ]  # "\u0420\u0422\u041f" in windows-1251


def test_a_meta_content_without_http_equiv_is_ignored() -> None:
    assert meta_charset(b'<meta content="text/html; charset=koi8-r">', lambda _: True) is None


def test_the_prescan_looks_at_the_first_1024_bytes_only() -> None:
    late = b"<p>" + b"x" * 1100 + b'<meta charset="koi8-r">'
    assert meta_charset(late, lambda _: True) is None
    assert meta_charset(b"<p>" + b'<meta charset="koi8-r">', lambda _: True) == "koi8-r"


def test_a_meta_asking_for_utf16_means_utf8() -> None:
    encoding = for_part(None, b'<meta charset="utf-16"><p>\xc3\xa9', html=True)
    assert encoding is not None and encoding.name == "UTF-8"


@pytest.mark.parametrize(
    "label",
    [
        "rot13", "rot-13", "base64", "zlib", "punycode", "hex", "bz2", "uu", "quopri",
        "idna", "unicode_escape", "raw-unicode-escape", "undefined", "charmap",
        "utf\x008", "utf-8\x00", "nonsense", "", " ", "utf-8;", "x" * 41, "ut f-8",
    ],
)  # fmt: skip
def test_only_text_encodings_are_charsets(label: str) -> None:
    assert lookup(label) is None


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("UTF8", "UTF-8"), (" utf-8 ", "UTF-8"), ("us-ascii", "windows-1252"),
        ("iso-8859-9", "windows-1254"), ("tis-620", "windows-874"), ("gb2312", "GBK"),
        ("ks_c_5601-1987", "EUC-KR"), ("utf-16", "UTF-16LE"), ("iso-2022-kr", "replacement"),
        ("utf-7", "utf_7"), ("cp437", "cp437"),
    ],
)  # fmt: skip
def test_labels_name_the_standards_encodings(label: str, name: str) -> None:
    encoding = lookup(label)
    assert encoding is not None and encoding.name == name


def test_an_iso_2022_kr_part_is_left_alone_with_a_warning(codec: TokenCodec) -> None:
    raw = _message(b"text/plain; charset=iso-2022-kr", b"see https://kr.example/\r\n")
    result = instrument_message(raw, codec=codec, base_url=BASE, message="f" * 20, sent_at=1)
    assert result.mime == raw
    assert any("refuse to read" in warning for warning in result.warnings)


def test_utf16_text_part_with_a_bom_keeps_its_bom_and_byte_order(codec: TokenCodec) -> None:
    text = "\ufeffLies https://help.example/x bitte\r\n"
    body = text.encode("utf-16-be")
    raw = _message(b"text/plain; charset=utf-16be", body)
    output, targets = _instrument(codec, raw)
    assert targets == []  # the tracker URL is in UTF-16 here: decode to check
    decoded = output.partition(b"\r\n\r\n")[2].decode("utf-16-be")
    assert decoded.startswith("\ufeffLies https://track.example.net/t/c/")
    assert decoded.endswith(" bitte\r\n")


def test_decoding_keeps_every_byte() -> None:
    for name in ("windows-1252", "UTF-8", "Shift_JIS", "KOI8-U", "x-user-defined"):
        encoding = lookup(name)
        assert encoding is not None
        data = bytes(range(256)) * 2
        text = encoding.decode(data)
        if text is not None:
            assert encoding.encode(text) == data, name
