"""Plain-text links: where a URL ends, undecodable bytes, and inputs built to be slow."""

from __future__ import annotations

import pytest

from inkling.instrument import instrument_message
from inkling.instrument.links import MessageLinks
from inkling.instrument.text import rewrite_text
from inkling.tokens import TokenCodec, new_message_id
from tests.instrument.helpers import BASE, CLICK, tracked_targets


def _links(codec: TokenCodec) -> MessageLinks:
    return MessageLinks(codec, BASE, new_message_id(), 1_790_000_000)


def _rewrite(codec: TokenCodec, text: str) -> tuple[str, list[str]]:
    links = _links(codec)
    return rewrite_text(text, links), links.urls


# Characters that end a URL in text (Unicode categories Zs, Cf, Ps, Pe, Pi, Pf, Po, Pd).
ENDERS = [
    "\u3002",  # IDEOGRAPHIC FULL STOP
    "\u3001",  # IDEOGRAPHIC COMMA
    "\uff0c",  # FULLWIDTH COMMA
    "\uff01",  # FULLWIDTH EXCLAMATION MARK
    "\u201c",  # LEFT DOUBLE QUOTATION MARK
    "\u201d",  # RIGHT DOUBLE QUOTATION MARK
    "\u2018",  # LEFT SINGLE QUOTATION MARK
    "\u2019",  # RIGHT SINGLE QUOTATION MARK
    "\u00ab",  # LEFT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\u00bb",  # RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\u300c",  # LEFT CORNER BRACKET
    "\u3011",  # RIGHT BLACK LENTICULAR BRACKET
    "\u2014",  # EM DASH
    "\u2026",  # HORIZONTAL ELLIPSIS
    "\u00a0",  # NO-BREAK SPACE
    "\u3000",  # IDEOGRAPHIC SPACE
    *(chr(point) for point in range(0x2000, 0x200C)),  # EN QUAD ... ZERO WIDTH SPACE
    "\u202f",  # NARROW NO-BREAK SPACE
    "\u2028",  # LINE SEPARATOR
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\ufeff",  # ZERO WIDTH NO-BREAK SPACE
    "\u0085",  # NEXT LINE (a C1 control)
    "\u060c",  # ARABIC COMMA
    "\u0964",  # DEVANAGARI DANDA
]


@pytest.mark.parametrize("ender", ENDERS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_url_ends_before_typographic_punctuation_and_spaces(
    codec: TokenCodec, ender: str
) -> None:
    text = f"Voir https://help.example/guide{ender}Merci"
    output, urls = _rewrite(codec, text)
    assert urls == ["https://help.example/guide"]
    assert output.endswith(f"{ender}Merci")


@pytest.mark.parametrize(
    "url",
    [
        "https://ja.example/wiki/\u30a2\u30eb\u30d9\u30eb\u30c8\u30fb\u30a2\u30a4\u30f3",  # ・
        "https://ca.example/col\u00b7legi",  # l·l
        "https://fa.example/\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # ZWNJ
        "https://he.example/\u05e6\u05d4\u05f4\u05dc",  # gershayim
        "https://de.example/caf\u00e9-\u00fcber\u2010alles",  # HYPHEN
        "https://emoji.example/\U0001f469\u200d\U0001f4bb",  # ZWJ sequence
    ],
)
def test_word_internal_punctuation_stays_in_the_url(codec: TokenCodec, url: str) -> None:
    output, urls = _rewrite(codec, f"See {url} now")
    assert len(urls) == 1
    assert output.endswith(" now") and url not in output


@pytest.mark.parametrize(
    ("text", "url", "after"),
    [
        ("(see https://en.example/wiki/Foo_(bar)).", "https://en.example/wiki/Foo_(bar)", ")."),
        ("https://a.example/x?y=1,", "https://a.example/x?y=1", ","),
        ("https://a.example/x]]", "https://a.example/x", "]]"),
        ("[https://a.example/[x]]", "https://a.example/[x]", "]"),
        ("https://a.example/x!?*_", "https://a.example/x", "!?*_"),
    ],
)
def test_trailing_punctuation_is_trimmed(
    codec: TokenCodec, text: str, url: str, after: str
) -> None:
    output, urls = _rewrite(codec, text)
    assert urls == [url]
    assert output.endswith(after)


@pytest.mark.parametrize("count", [10, 1_000, 100_000])
def test_a_url_followed_by_many_closing_parentheses(codec: TokenCodec, count: int) -> None:
    output, urls = _rewrite(codec, "https://a.example/x" + ")" * count)
    assert urls == ["https://a.example/x"]
    assert output.endswith(")" * count) and output.count(")") == count


def test_balanced_parentheses_at_any_depth_are_kept(codec: TokenCodec) -> None:
    depth = 2_000  # the tracker URL must stay under the limit
    url = "https://a.example/" + "(" * depth + "x" + ")" * depth
    links = _links(codec)
    output = rewrite_text(url + ")))", links)
    assert links.urls == [url]
    tracked = links.track(url)
    assert tracked is not None
    assert output == tracked + ")))"


@pytest.mark.parametrize(
    "text",
    [
        "https://" * 50_000,
        "http://a" * 50_000,
        "https://a.example/" + "." * 200_000,
        ("https://a.example/x " * 20_000),
        "h" * 200_000 + "ttp://a.example/",
        "https://a.example/" + "\u3002https://b.example/" * 10_000,
    ],
    ids=["schemes", "hosts", "dots", "many-urls", "near-miss", "cjk-run"],
)
def test_big_hostile_text_is_rewritten_whole(codec: TokenCodec, text: str) -> None:
    """Inputs built to make a backtracking or quadratic rewriter crawl: each comes out
    complete, every link either tracked or left as it was."""
    links = _links(codec)
    output = rewrite_text(text, links)
    for url in links.urls:
        assert url.startswith(("https://", "http://"))
    assert len(links.urls) <= 65_535
    # Nothing but the links changed: what is between tracker URLs is the input's, in order.
    position = 0
    for piece in CLICK.split(output.encode())[::2]:
        found = text.encode().find(piece, position)
        assert found != -1
        position = found + len(piece)


def _message(body: bytes, charset: bytes = b"utf-8") -> bytes:
    return (
        b"Subject: bytes\r\nMessage-ID: <bytes@x>\r\nContent-Type: text/plain; charset="
        + charset
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
    )


def test_invalid_utf8_around_a_url_never_raises_and_stays(codec: TokenCodec) -> None:
    body = b"\xff\xfe Read https://help.example/a \xc3\x28 and \xed\xa0\x80 then\r\n"
    raw = _message(body)
    result = instrument_message(raw, codec=codec, base_url=BASE, message="a" * 20, sent_at=1)
    assert result.links == ["https://help.example/a"]
    assert tracked_targets(codec, result.mime) == ["https://help.example/a"]
    head, _, tail = result.mime.partition(b"Read ")
    assert head == raw.partition(b"Read ")[0]
    assert tail.endswith(b" \xc3\x28 and \xed\xa0\x80 then\r\n")


def test_invalid_utf8_inside_a_url_is_read_as_a_client_shows_it(codec: TokenCodec) -> None:
    """A client shows each bad sequence as U+FFFD (WHATWG UTF-8 decoder: one per maximal
    subpart), and the browser sends that as %EF%BF%BD; the bad bytes are part of the link,
    so they go with it."""
    raw = _message(b"Go https://help.example/caf\xe9/\xe2\x82x now\r\n")
    result = instrument_message(raw, codec=codec, base_url=BASE, message="a" * 20, sent_at=1)
    assert result.links == ["https://help.example/caf%EF%BF%BD/%EF%BF%BDx"]
    assert result.mime.endswith(b" now\r\n") and b"\xe9" not in result.mime


def test_an_undecodable_host_is_left_alone(codec: TokenCodec) -> None:
    raw = _message(b"Go https://he\xfflp.example/x now\r\n")
    result = instrument_message(raw, codec=codec, base_url=BASE, message="a" * 20, sent_at=1)
    assert result.mime == raw and result.links == []
    assert any("left untracked" in warning for warning in result.warnings)
