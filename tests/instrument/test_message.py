"""Whole messages: MIME structure, encodings and other parts survive; links are tracked."""

from __future__ import annotations

import email
import json
import re
from email.message import Message
from email.policy import compat32
from pathlib import Path

import pytest

from inkling.errors import InstrumentError
from inkling.instrument import instrument_message
from inkling.instrument.urls import to_uri
from inkling.tokens import TokenCodec, new_message_id
from tests.conftest import FIXTURES
from tests.instrument.helpers import BASE, CLICK, HONEYPOT, PIXEL, tracked_targets

EML_FIXTURES = sorted(p for p in (FIXTURES / "eml").glob("*.eml") if p.stem != "not_mail")


def _instrument(codec: TokenCodec, raw: bytes) -> bytes:
    result = instrument_message(
        raw, codec=codec, base_url=BASE, message=new_message_id(), sent_at=1
    )
    return result.mime


def _parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=compat32)


def _leaves(message: Message) -> list[Message]:
    """Leaf parts, not descending into attached messages (message/rfc822)."""
    if message.get_content_type() == "message/rfc822":
        return [message]
    if message.is_multipart():
        return [leaf for part in _subparts(message) for leaf in _leaves(part)]
    return [message]


def _subparts(multipart: Message) -> list[Message]:
    """A multipart's payload: its parts, each a message (narrowed from the typeshed union)."""
    payload = multipart.get_payload()
    assert isinstance(payload, list)
    parts: list[Message] = []
    for part in payload:
        assert isinstance(part, Message)
        parts.append(part)
    return parts


def _body_parts(message: Message, subtype: str) -> list[Message]:
    return [
        leaf
        for leaf in _leaves(message)
        if leaf.get_content_type() == f"text/{subtype}"
        and leaf.get_content_disposition() != "attachment"
    ]


def _text(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


@pytest.mark.parametrize("path", EML_FIXTURES, ids=lambda p: p.stem)
def test_fixture_message(codec: TokenCodec, path: Path) -> None:
    expected = json.loads(path.with_suffix(".expect.json").read_text())
    original = path.read_bytes()
    result = instrument_message(
        original, codec=codec, base_url=BASE, message=new_message_id(), sent_at=1
    )
    before, after = _parse(original), _parse(result.mime)

    assert (result.html_parts, result.text_parts) == (
        expected["html_parts"],
        expected["text_parts"],
    )
    if expected["message_id"]:
        assert result.message_id == expected["message_id"]
    assert after["Message-ID"].strip() == result.message_id

    targets = []
    for part in _body_parts(after, "html") + _body_parts(after, "plain"):
        targets += tracked_targets(codec, _text(part))
    assert targets == [to_uri(url) for url in expected["tracked_links"]]

    # The same tree, the same headers on every part, other parts untouched.
    old_leaves, new_leaves = _leaves(before), _leaves(after)
    assert [p.get_content_type() for p in old_leaves] == [p.get_content_type() for p in new_leaves]
    for old, new in zip(old_leaves, new_leaves, strict=True):
        assert old.items() == new.items()
        if old.get_content_maintype() != "text" or old.get_content_disposition() == "attachment":
            assert old.as_bytes() == new.as_bytes()

    for part in _body_parts(after, "html"):
        assert len(PIXEL.findall(_text(part))) == 1
        honeypots = HONEYPOT.findall(_text(part))
        assert len(honeypots) == 1, "one hidden honeypot link per HTML part"
        assert codec.decode_open(honeypots[0].decode()).message == result.message


@pytest.mark.parametrize("path", EML_FIXTURES, ids=lambda p: p.stem)
def test_only_link_values_change_in_the_decoded_html(codec: TokenCodec, path: Path) -> None:
    original = path.read_bytes()
    output = _instrument(codec, original)
    for old, new in zip(
        _body_parts(_parse(original), "html"), _body_parts(_parse(output), "html"), strict=True
    ):
        new_html = HONEYPOT.sub(b"", PIXEL.sub(b"", _text(new)))
        old_html = _text(old)
        pieces = CLICK.split(new_html)
        # Between the tracker URLs, the bytes are the original's, in order.
        position = 0
        for piece in pieces[::2]:
            found = old_html.find(piece, position)
            assert found != -1, f"{piece[:80]!r} is not in the original"
            position = found + len(piece)


def test_quoted_printable_stays_quoted_printable_with_crlf(codec: TokenCodec) -> None:
    original = (FIXTURES / "eml" / "alt_qp_utf8.eml").read_bytes()
    output = _instrument(codec, original)
    [html] = _body_parts(_parse(output), "html")
    assert html["Content-Transfer-Encoding"].lower() == "quoted-printable"
    assert b"\n" not in output.replace(b"\r\n", b"")
    assert max(len(line) for line in output.split(b"\r\n")) <= 998


def test_message_id_is_added_when_missing(codec: TokenCodec) -> None:
    original = (FIXTURES / "eml" / "no_message_id.eml").read_bytes()
    result = instrument_message(original, codec=codec, base_url=BASE, message="a" * 20, sent_at=1)
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", result.message_id)
    assert _parse(result.mime)["Message-ID"] == result.message_id
    header_block = original[: original.index(b"\r\n\r\n")]
    added = f"Message-ID: {result.message_id}\r\n".encode()
    assert result.mime.startswith(added + header_block)


def test_forwarded_message_inside_is_untouched(codec: TokenCodec) -> None:
    original = (FIXTURES / "eml" / "forwarded_rfc822.eml").read_bytes()
    output = _instrument(codec, original)
    [old] = [p for p in _leaves(_parse(original)) if p.get_content_type() == "message/rfc822"]
    [new] = [p for p in _leaves(_parse(output)) if p.get_content_type() == "message/rfc822"]
    assert old.as_bytes() == new.as_bytes()
    assert b"harbor-logistics.example/legal" in output


def test_not_mail_is_refused_clearly(codec: TokenCodec) -> None:
    with pytest.raises(InstrumentError, match="not a MIME message"):
        _instrument(codec, (FIXTURES / "eml" / "not_mail.eml").read_bytes())


def test_oversized_message_is_refused_clearly(codec: TokenCodec) -> None:
    big = b"Subject: big\r\nContent-Type: text/html\r\n\r\n" + b"<p>x</p>\r\n" * 5_000_000
    with pytest.raises(InstrumentError, match=r"47\.7 MiB, over the 25\.0 MiB limit"):
        _instrument(codec, big)


def test_text_only_message_gets_tracked_links_and_no_pixel(codec: TokenCodec) -> None:
    raw = b"Subject: hi\r\nMessage-ID: <t@x>\r\n\r\nRead https://help.example/a, then reply.\r\n"
    result = instrument_message(raw, codec=codec, base_url=BASE, message="b" * 20, sent_at=1)
    assert result.html_parts == 0 and result.links == ["https://help.example/a"]
    assert result.mime.endswith(b", then reply.\r\n")
    assert b"/t/o/" not in result.mime


def test_long_lines_in_an_8bit_part_switch_it_to_quoted_printable(codec: TokenCodec) -> None:
    links = "".join(f'<a href="https://help.example/{i}">{i}</a> ' for i in range(12))
    raw = (
        b"Subject: many links\r\nMessage-ID: <long@x>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + f"<p>Grüße {links}</p>\r\n".encode()
    )
    assert max(len(line) for line in raw.split(b"\r\n")) < 998
    result = instrument_message(raw, codec=codec, base_url=BASE, message="c" * 20, sent_at=1)
    assert max(len(line) for line in result.mime.split(b"\r\n")) <= 998
    parsed = _parse(result.mime)
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert len(tracked_targets(codec, _text(parsed))) == 12
    assert "Grüße".encode() in _text(parsed)
    assert any("quoted-printable" in warning for warning in result.warnings)
