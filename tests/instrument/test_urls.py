"""Links are tracked only where the tracker can serve them, with the target a browser requests.

The expected values come from the WHATWG URL Standard (host parsing, IPv4 and IPv6
parsing, port rules, the special-scheme slash rules), not from the code under test.
"""

from __future__ import annotations

import random
from urllib.parse import urlsplit, urlunsplit

import pytest

from inkling.instrument import instrument_message
from inkling.instrument.hosts import parse_host
from inkling.instrument.links import MAX_TRACKER_URL, MessageLinks
from inkling.instrument.urls import UntrackableURL, to_uri
from inkling.tokens import TokenCodec, new_message_id
from tests.instrument.helpers import BASE, CLICK, tracked_targets

# (href as written, the URL a browser requests for it), per the URL Standard.
BROWSER_FORM = [
    # special schemes: missing or backward slashes after the scheme
    ("http:/example.com/a", "http://example.com/a"),
    ("https:example.com", "https://example.com/"),
    ("HTTP:\\\\example.com", "http://example.com/"),
    ("http:\\/example.com/x\\y", "http://example.com/x/y"),
    ("https:///example.com/", "https://example.com/"),
    # hosts: percent-decoding, UTS #46 mapping, IDNA
    ("http://ex%41mple.com/", "http://example.com/"),
    ("http://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0ecom/", "http://example.com/"),
    ("http://exa\u00admple.com/", "http://example.com/"),
    ("http://stra\u00dfe.de/", "http://xn--strae-oqa.de/"),
    ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
    ("https://\U0001f600.example/", "https://xn--e28h.example/"),
    ("http://a\u3002b.example/", "http://a.b.example/"),
    ("http://XN--BCHER-KVA.example/", "http://xn--bcher-kva.example/"),
    ("http://-a-.example/", "http://-a-.example/"),  # CheckHyphens is off
    ("http://a_b.example/", "http://a_b.example/"),  # UseSTD3ASCIIRules is off
    # IPv4 in every form the IPv4 parser accepts
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0177.0.0.1/", "http://127.0.0.1/"),
    ("http://1.2.3/", "http://1.2.0.3/"),
    ("http://0x/", "http://0.0.0.0/"),
    ("http://127.0.0.1./", "http://127.0.0.1/"),
    # IPv6: compressed, lowercase, IPv4 tails
    ("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"),
    ("http://[::ffff:1.2.3.4]/", "http://[::ffff:102:304]/"),
    ("http://[2001:DB8:0:0:1:0:0:1]:8080/", "http://[2001:db8::1:0:0:1]:8080/"),
    ("http://[1:0:0:2::3:0]/", "http://[1::2:0:0:3:0]/"),
    # ports: default ports dropped, leading zeros read, an empty port is no port
    ("http://example.com:0080/\u00fc", "http://example.com/%C3%BC"),
    ("https://example.com:0443/?q=a b", "https://example.com/?q=a%20b"),
    ("http://example.com:/x", "http://example.com/x"),
    ("http://example.com:65535/", "http://example.com:65535/"),
    # credentials: every "@" but the last is part of them
    ("http://user:pa ss@example.com/", "http://user:pa%20ss@example.com/"),
    ("http://a@b@example.com/", "http://a%40b@example.com/"),
    ("http://:@example.com/\u00e4", "http://example.com/%C3%A4"),
    # path, query and fragment: the standard's percent-encode sets
    ("http://example.com/a b\x00\x7fc", "http://example.com/a%20b%00%7Fc"),
    ("http://example.com/?q='`\x01x", "http://example.com/?q=%27`%01x"),
    ("http://example.com/#`x y", "http://example.com/#%60x%20y"),
    ("http://example.com?x", "http://example.com?x"),  # plain: kept as written
]

# Links a browser's URL parser refuses (new URL() throws): they must stay as written.
REFUSED = [
    "http://ex\u00e4mple.com:80\u00fc/",  # a port that is not digits
    "http://example.com:8a/",
    "http://example.com:65536/",
    "http://example.com:99999999999999999999999/",
    "http://[::1\u00e4]/x",  # IPv6 with a letter that is no hex digit
    "http://[1:2::3::4]/",
    "http://[1:2:3:4:5:6:7:8:9]/",
    "http://[::1.2.3]/",
    "http://[::1/",
    "http://[fe80::1%25eth0]/",
    "http://a\x00b.com/",  # forbidden host code points
    "http://a\x0cb.com/",
    "http://a b.com/",
    "http://a%00b.com/",
    "http://a%zzb.com/",
    "http://a<b.com/",
    "http://a^b.com/",
    "http://a|b.com/",
    "http://a\ufffdb.com/",  # U+FFFD: disallowed by IDNA
    "http://\u200db.com/",  # a zero-width joiner out of context (CheckJoiners)
    "http://\u0663.example/",  # an Arabic-Indic digit first in a Bidi domain (CheckBidi)
    "http://xn--a.example/",  # Punycode for a character IDNA disallows
    "http://1.2.3.4.5/",  # ends in a number but is no IPv4 address
    "http://256.0.0.1/",
    "http://0x100000000/",
    "http://a.0x/",
    "http://999999999999999999999999999/",
    "http://",  # no host at all
    "http:///",
    "http://user@/",
    "http://:80/",
    "http:?x",
]


def assert_servable(target: str) -> None:
    """What the tracker needs to redirect to ``target``: an absolute http(s) URL with a
    valid host, ASCII with no controls or spaces (a Location header value), that
    urllib.parse reads and writes back the same."""
    assert target.isascii()
    assert not any(ord(c) < 0x21 or ord(c) == 0x7F for c in target), target
    target.encode("ascii", "strict")
    parts = urlsplit(target)
    assert parts.scheme in ("http", "https"), target
    assert parts.hostname, target
    assert parts.port is None or 0 <= parts.port <= 65535
    host = parts.netloc.rpartition("@")[2]
    host = host.rpartition(":")[0] if not host.endswith("]") and ":" in host else host
    assert parse_host(host) == host.lower(), "the host is already its own serialisation"
    rebuilt = urlunsplit(parts)
    written = parts.scheme + target[len(parts.scheme) :]  # urllib lowercases the scheme
    # urllib drops an empty "?" or "#"; a browser keeps them (they change the request)
    assert written in (rebuilt, rebuilt + "?", rebuilt + "#", rebuilt + "?#"), (target, rebuilt)


def _links(codec: TokenCodec) -> MessageLinks:
    return MessageLinks(codec, BASE, new_message_id(), 1_790_000_000)


@pytest.mark.parametrize(("href", "expected"), BROWSER_FORM)
def test_target_is_what_the_browser_requests(codec: TokenCodec, href: str, expected: str) -> None:
    assert to_uri(href) == expected
    links = _links(codec)
    tracked = links.track(href)
    assert tracked is not None
    assert links.urls == [expected]
    assert_servable(expected)


@pytest.mark.parametrize("href", REFUSED)
def test_a_link_browsers_refuse_stays_as_written_with_a_warning(
    codec: TokenCodec, href: str
) -> None:
    with pytest.raises(UntrackableURL):
        to_uri(href)
    attribute = href.replace("&", "&amp;").replace('"', "&quot;")
    raw = (
        b"Subject: refused\r\nMessage-ID: <refused@x>\r\nContent-Type: text/html; charset=utf-8"
        b"\r\n\r\n" + f'<p><a href="{attribute}">link</a></p>'.encode()
    )
    result = instrument_message(raw, codec=codec, base_url=BASE, message="c" * 20, sent_at=1)
    assert result.links == []
    assert f'<a href="{attribute}">'.encode() in result.mime
    assert any("left untracked" in warning for warning in result.warnings)


def test_warnings_show_hostile_links_escaped(codec: TokenCodec) -> None:
    links = _links(codec)
    assert links.track("http://a\x1b[31mb.example/") is None
    [warning] = links.warnings
    assert "\x1b" not in warning and "\\x1b" in warning


def _hostile_hrefs(count: int, seed: int) -> list[str]:
    """URL-shaped strings built from the pieces that trip parsers up."""
    pieces = [
        *"/\\.:@[]?#%-_~'\"<>^|`{} \t\n\x00\x0c\x7fabZ019",
        "//", "..", "%41", "%2e", "%00", "%zz", "%C3%A4", "%ff", "::", "0x", "0X1f", "255",
        "256", "4294967295", "4294967296", "65535", "65536", "xn--", "xn--zca", "\u00e4",
        "\u00df", "\u03a9", "\u0627", "\u05d0", "\u0663", "\u200c", "\u200d", "\u00ad",
        "\ufeff", "\u3002", "\uff42", "\U0001f600", "\u0301", "\ufb03", "\u0130", "\ufffd",
        "1.2.3.4", "::1", "ffff:", "user", "pass",
    ]  # fmt: skip
    rng = random.Random(seed)
    starts = ["http://", "https://", "HTTP://", "http:", "https:/", "http:\\\\"]
    return [
        rng.choice(starts) + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 9)))
        for _ in range(count)
    ]


HOSTILE = _hostile_hrefs(4000, seed=20261201)


def test_every_tracked_target_is_servable(codec: TokenCodec) -> None:
    """Whatever the href, the link is either left alone with a warning or tracked with a
    target the tracker can put in a Location header."""
    links = _links(codec)
    refused = 0
    for href in HOSTILE:
        if links.track(href) is None:
            refused += 1
    assert links.urls, "some hostile links are still valid URLs"
    assert refused, "and some are not"
    for target in links.urls:
        assert_servable(target)
    assert len(links.warnings) <= refused


def test_a_link_whose_tracker_url_would_be_too_long_stays_as_written(codec: TokenCodec) -> None:
    links = _links(codec)
    short = "https://help.example/" + "a" * 5000
    long = "https://help.example/" + "b" * 7000
    tracked = links.track(short)
    assert tracked is not None and len(tracked) <= MAX_TRACKER_URL
    assert links.track(long) is None
    assert links.urls == [short]
    assert any(f"over {MAX_TRACKER_URL} bytes" in warning for warning in links.warnings)


@pytest.mark.parametrize("length", range(5850, 6050, 7))
def test_tracker_urls_never_pass_the_limit(codec: TokenCodec, length: int) -> None:
    links = _links(codec)
    tracked = links.track("https://help.example/" + "x" * length)
    assert tracked is None or len(tracked) <= MAX_TRACKER_URL
    assert (tracked is None) == bool(links.warnings)


def test_a_huge_link_in_a_message_is_left_alone(codec: TokenCodec) -> None:
    url = "https://help.example/" + "q" * 2_000_000
    raw = f"Subject: huge\r\nMessage-ID: <huge@x>\r\n\r\nSee {url} now.\r\n".encode()
    result = instrument_message(raw, codec=codec, base_url=BASE, message="d" * 20, sent_at=1)
    assert result.mime == raw
    assert result.links == []
    assert any("left untracked" in warning for warning in result.warnings)


def test_refused_and_tracked_links_in_one_message(codec: TokenCodec) -> None:
    html = (
        '<a href="http://a.com:99999/">bad port</a> <a href="https:example.com/ok">ok</a> '
        '<a href="http://[::1ä]/x">bad v6</a>'
    )
    raw = (
        b"Subject: mixed\r\nMessage-ID: <mixed@x>\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"\r\n" + html.encode()
    )
    result = instrument_message(raw, codec=codec, base_url=BASE, message="e" * 20, sent_at=1)
    assert tracked_targets(codec, result.mime) == ["https://example.com/ok"]
    assert b'<a href="http://a.com:99999/">' in result.mime
    assert '<a href="http://[::1ä]/x">'.encode() in result.mime
    assert len(CLICK.findall(result.mime)) == 1
    assert len([w for w in result.warnings if "left untracked" in w]) == 2
