"""Inputs built to make a backtracking pattern or a quadratic loop crawl. These tests check
what comes out (whole, byte-faithful, links right), not how long it takes:
``bench/linearity.py`` measures that, on inputs ten times apart."""

from __future__ import annotations

import pytest

from inkling.instrument import instrument_message
from inkling.instrument.html import rewrite_html
from inkling.tokens import TokenCodec
from tests.instrument.helpers import BASE, MarkingLinks, tracked_targets, undo_markers

HOSTILE_HTML = {
    "unclosed-link-tags": b"<a href=x " * 20_000,
    "unclosed-conditionals": b"<!--[if " * 20_000,
    "unclosed-quotes": b'<a x="' * 20_000 + b">",
    "mixed-quotes": b"<a x='\" y=\"' " * 20_000 + b">",
    "endless-href": b"<a href='https://a.example/" + b"x" * 500_000,
    "angle-brackets": b"<" * 200_000,
    "tag-starts": b"<a" * 100_000,
    "ampersands": b'<a href="https://a.example/?' + b"&" * 200_000 + b'">x</a>',
    "references": b'<a href="https://a.example/?' + b"&ampx" * 50_000 + b'">x</a>',
    "legacy-names": b'<a href="https://a.example/?' + b"&notit" * 50_000 + b'">x</a>',
    "comment-starts": b"<!--" * 100_000,
    "raw-text-starts": b"<script>" * 100_000,
    "many-links": b'<a href="https://a.example/x">x</a>' * 20_000,
    "many-attributes": b"<a " + b'data-x="1" ' * 50_000 + b'href="https://a.example/y">y</a>',
}


@pytest.mark.parametrize("name", list(HOSTILE_HTML))
def test_hostile_html_comes_out_whole_and_faithful(codec: TokenCodec, name: str) -> None:
    html = HOSTILE_HTML[name]
    links = MarkingLinks(codec)
    output = rewrite_html(html, "utf-8", links, pixel=None).html
    assert undo_markers(output, links.originals, "utf-8") == html


def test_many_links_share_one_token(codec: TokenCodec) -> None:
    raw = (
        b"Subject: many\r\nMessage-ID: <many@x>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + HOSTILE_HTML["many-links"]
    )
    result = instrument_message(raw, codec=codec, base_url=BASE, message="7" * 20, sent_at=1)
    assert result.links == ["https://a.example/x"]
    assert tracked_targets(codec, result.mime) == ["https://a.example/x"] * 20_000


def _mime(body: bytes, content_type: bytes) -> bytes:
    return (
        b"Subject: big\r\nMessage-ID: <big@x>\r\nContent-Type: " + content_type + b"\r\n\r\n" + body
    )


def test_a_multipart_with_thousands_of_parts(codec: TokenCodec) -> None:
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nhttps://a.example/p\r\n"
    raw = _mime(part * 5_000 + b"--b--\r\n", b'multipart/mixed; boundary="b"')
    result = instrument_message(raw, codec=codec, base_url=BASE, message="7" * 20, sent_at=1)
    assert result.text_parts == 5_000 and result.links == ["https://a.example/p"]


def test_a_long_boundary_and_lines_that_nearly_match_it(codec: TokenCodec) -> None:
    boundary = b"=" * 60 + b"x"
    near = (b"--" + boundary[:-1] + b"y\r\n") * 20_000
    body = b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\nhttps://a.example/q\r\n"
    raw = _mime(
        body + near + b"--" + boundary + b"--\r\n", b'multipart/mixed; boundary="' + boundary + b'"'
    )
    result = instrument_message(raw, codec=codec, base_url=BASE, message="7" * 20, sent_at=1)
    assert result.links == ["https://a.example/q"]
    assert result.mime.count(near) == 1


def test_a_header_line_of_a_megabyte(codec: TokenCodec) -> None:
    raw = (
        b"X-Long: " + b"a" * 1_000_000 + b"\r\n" + _mime(b"https://a.example/r\r\n", b"text/plain")
    )
    result = instrument_message(raw, codec=codec, base_url=BASE, message="7" * 20, sent_at=1)
    assert result.links == ["https://a.example/r"]
    assert result.mime.startswith(b"X-Long: " + b"a" * 1_000_000 + b"\r\n")


def test_thousands_of_distinct_bad_links_are_counted_not_listed(codec: TokenCodec) -> None:
    body = b"".join(b"http://a.example:%d/ " % port for port in range(70_000, 72_000))
    result = instrument_message(
        _mime(body, b"text/plain"), codec=codec, base_url=BASE, message="7" * 20, sent_at=1
    )
    assert result.links == []
    assert len(result.warnings) == 101
    assert result.warnings[-1] == "1900 more links left untracked"
