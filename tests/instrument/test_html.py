"""HTML rewriting: every link kind, what is left alone, and byte-faithfulness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inkling.instrument.html import pixel_tag, rewrite_html
from inkling.instrument.links import MessageLinks
from inkling.instrument.urls import to_uri
from inkling.tokens import TokenCodec, new_message_id
from tests.conftest import FIXTURES
from tests.instrument.helpers import (
    BASE,
    CLICK,
    PIXEL,
    MarkingLinks,
    tracked_targets,
    undo_markers,
)

HTML_FIXTURES = sorted((FIXTURES / "html").glob("*.html"))


def _links(codec: TokenCodec) -> MessageLinks:
    return MessageLinks(codec, BASE, new_message_id(), 1_790_000_000)


def _rewrite(codec: TokenCodec, html: str, charset: str = "utf-8", pixel: bool = False) -> bytes:
    links = _links(codec)
    pixel_bytes = pixel_tag(links.pixel_url()) if pixel else None
    return rewrite_html(html.encode(charset), charset, links, pixel=pixel_bytes).html


@pytest.mark.parametrize(
    ("html", "target"),
    [
        ('<a href="https://a.example/x">x</a>', "https://a.example/x"),
        ("<a href='https://a.example/x'>x</a>", "https://a.example/x"),
        ("<a href=https://a.example/x>x</a>", "https://a.example/x"),
        ('<A HREF="HTTP://A.example/X">x</A>', "HTTP://A.example/X"),
        ('<a\n  class="btn"\n  href = "https://a.example/x"\n>x</a>', "https://a.example/x"),
        ('<area shape="rect" coords="0,0,9,9" href="https://a.example/m">', "https://a.example/m"),
        (
            '<!--[if mso]><v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" '
            'href="https://a.example/b" arcsize="10%"><w:anchorlock/></v:roundrect><![endif]-->',
            "https://a.example/b",
        ),
        ('<!--[if mso]><v:rect href="https://a.example/r" /><![endif]-->', "https://a.example/r"),
        ('<a href="https://a.example/?a=1&amp;b=2">x</a>', "https://a.example/?a=1&b=2"),
        ('<a href="https://a.example/?a=1&#38;b=2">x</a>', "https://a.example/?a=1&b=2"),
        ('<a href="https://a.example/?a=1&#x26;b=2">x</a>', "https://a.example/?a=1&b=2"),
        ('<a href="https://a.example/?a=1&copy=2">x</a>', "https://a.example/?a=1&copy=2"),
        (
            '<a href="https://a.example/caf%C3%A9?q=a%20b">x</a>',
            "https://a.example/caf%C3%A9?q=a%20b",
        ),
        ('<a href="  https://a.example/x\n">x</a>', "https://a.example/x"),
        (
            '<a href="https://例え.jp/ヘルプ?q=ü#章">x</a>',
            "https://xn--r8jz45g.jp/%E3%83%98%E3%83%AB%E3%83%97?q=%C3%BC#%E7%AB%A0",
        ),
        ('<a data-href="nope" href="https://a.example/x">x</a>', "https://a.example/x"),
    ],
)
def test_link_kinds_are_tracked(codec: TokenCodec, html: str, target: str) -> None:
    output = _rewrite(codec, html)
    assert tracked_targets(codec, output) == [target]


@pytest.mark.parametrize(
    "html",
    [
        '<a href="mailto:help@acme.example">mail</a>',
        '<a href="tel:+441234567">call</a>',
        '<a href="sms:+441234567">text</a>',
        '<a href="#section-2">jump</a>',
        '<img src="cid:logo@acme"><a href="cid:part1@acme">x</a>',
        '<a href="javascript:void(0)">x</a>',
        '<a href="/relative/path">x</a>',
        '<a href="//cdn.example/x">x</a>',
        '<a href="https://a.example/x" data-inkling="off">x</a>',
        "<a data-inkling='OFF' href='https://a.example/x'>x</a>",
        f'<a href="{BASE}/t/c/AbCdEf">already</a>',
        '<!-- <a href="https://a.example/commented">x</a> -->',
        '<style>a[href="https://a.example/css"] { color: red }</style>',
        '<script>var u = "<a href=\\"https://a.example/js\\">";</script>',
        '<title><a href="https://a.example/t"></title>',
        '<textarea><a href="https://a.example/ta"></a></textarea>',
        '<a xhref="https://a.example/x" data-href="https://a.example/y">x</a>',
        '<link href="https://a.example/style.css" rel="stylesheet">',
        '<abbr href="https://a.example/x">x</abbr>',
        '<a name="top">no href</a>',
    ],
)
def test_links_left_alone(codec: TokenCodec, html: str) -> None:
    output = _rewrite(codec, html)
    assert output == html.encode()


def test_link_after_an_ordinary_comment_is_still_tracked(codec: TokenCodec) -> None:
    html = '<!-- a note --><!--> <!---> <a href="https://a.example/x">x</a>'
    assert tracked_targets(codec, _rewrite(codec, html)) == ["https://a.example/x"]


def test_downlevel_revealed_fallback_and_vml_are_both_tracked(codec: TokenCodec) -> None:
    html = (
        '<!--[if mso]><v:roundrect href="https://a.example/b"><center>Go</center>'
        "</v:roundrect><![endif]-->"
        '<!--[if !mso]><!--><a href="https://a.example/b">Go</a><!--<![endif]-->'
    )
    output = _rewrite(codec, html)
    assert tracked_targets(codec, output) == ["https://a.example/b"] * 2
    tokens = [m.group(1) for m in CLICK.finditer(output)]
    assert tokens[0] == tokens[1], "the same target shares one token and one link index"


def test_same_url_shares_a_link_index(codec: TokenCodec) -> None:
    links = _links(codec)
    html = b'<a href="https://a.example/1">1</a><a href="https://a.example/2">2</a>' * 2
    rewrite_html(html, "utf-8", links, pixel=None)
    assert links.urls == ["https://a.example/1", "https://a.example/2"]


def test_legacy_charset_link_is_read_in_its_charset_and_sent_as_utf8(codec: TokenCodec) -> None:
    html = '<a href="https://a.example/süß?q=Müller">x</a>'
    output = _rewrite(codec, html, charset="iso-8859-1")
    assert tracked_targets(codec, output) == ["https://a.example/s%C3%BC%C3%9F?q=M%C3%BCller"]


def test_utf16_html_is_rewritten_and_stays_utf16(codec: TokenCodec) -> None:
    html = '<html><body><a href="https://a.example/x">Grüße</a></body></html>'
    output = _rewrite(codec, html, charset="utf-16", pixel=True)
    text = output.decode("utf-16")
    assert "Grüße" in text and "/t/c/" in text and "/t/o/" in text


def test_pixel_goes_before_the_last_body_close(codec: TokenCodec) -> None:
    html = "<html><body><p>Hi</p></body>\n</html>\n"
    output = _rewrite(codec, html, pixel=True)
    match = PIXEL.search(output)
    assert match is not None
    assert output[match.end() :] == b"</body>\n</html>\n"
    assert output[: match.start()] == b"<html><body><p>Hi</p>"


def test_pixel_goes_at_the_end_without_a_body(codec: TokenCodec) -> None:
    output = _rewrite(codec, "<p>Just a fragment</p>\n", pixel=True)
    match = PIXEL.search(output)
    assert match is not None and match.end() == len(output)


def test_iri_conversion_keeps_existing_escapes() -> None:
    assert to_uri("https://a.example/%7Euser/ü?x=%2F") == "https://a.example/%7Euser/%C3%BC?x=%2F"
    assert to_uri("https://a.example/a b") == "https://a.example/a%20b"
    assert to_uri("https://münchen.example:8443/x") == "https://xn--mnchen-3ya.example:8443/x"


@pytest.mark.parametrize("path", HTML_FIXTURES, ids=lambda p: p.stem)
def test_fixture_links_are_tracked_as_expected(codec: TokenCodec, path: Path) -> None:
    sidecar = path.with_suffix(".links.json")
    if not sidecar.exists():
        pytest.fail(f"{sidecar.name} is missing")
    expected = json.loads(sidecar.read_text())
    html = path.read_bytes()
    links = _links(codec)
    output = rewrite_html(html, "utf-8", links, pixel=pixel_tag(links.pixel_url())).html
    targets = tracked_targets(codec, output, html)
    assert targets == [to_uri(item["url"]) for item in expected["tracked"]]


@pytest.mark.parametrize("path", HTML_FIXTURES, ids=lambda p: p.stem)
def test_fixture_is_byte_faithful(codec: TokenCodec, path: Path) -> None:
    original = path.read_bytes()
    links = MarkingLinks(codec)
    pixel = pixel_tag(links.pixel_url())
    output = rewrite_html(original, "utf-8", links, pixel=pixel).html
    assert output.count(pixel) == 1
    restored = undo_markers(output.replace(pixel, b""), links.originals, "utf-8")
    assert restored == original
