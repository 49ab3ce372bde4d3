"""Link rewriting for plain-text parts.

A URL in plain text ends where a reader would say it ends: at whitespace, an angle bracket
or a quote, at typographic punctuation, and without trailing sentence punctuation (a
closing parenthesis stays when the URL opened one, as in Wikipedia links).

Which characters end a URL is taken from their Unicode general category (see
:func:`_ends_url`), not from a list of samples. RFC 3986 allows only ASCII in a URI, and
the non-ASCII a writer puts in an IRI (RFC 3987) is letters, marks, digits and symbols:
the punctuation, spaces and invisible characters of other scripts are what text puts
*around* a link (the ideographic full stop and comma, the fullwidth comma, curly quotes,
guillemets, a no-break space, an ideographic space), never what a browser would send
unescaped. Punctuation that is written inside words (middle dots, word-internal hyphens,
Hebrew geresh) and the zero-width joiners Persian and Indic spelling need do not end one.

Every step is linear: one regex pass whose class cannot backtrack, and a trim that counts
brackets once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

from inkling.instrument.links import MessageLinks

_TRAILING = frozenset(".,;:!?'\"*_")
_PAIRS = {")": "(", "]": "[", "}": "{"}
# Punctuation written inside words, so inside the IRIs made of them: MIDDLE DOT (Catalan
# "l·l"), HYPHEN, NON-BREAKING HYPHEN, HYPHENATION POINT, ARMENIAN HYPHEN, HEBREW GERESH
# and GERSHAYIM (acronyms), TIBETAN MARK INTERSYLLABIC TSHEG, and the KATAKANA MIDDLE DOTS
# of Japanese names. And the joiners: ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER.
_WORD_INTERNAL = frozenset(
    "\u00b7\u2010\u2011\u2027\u058a\u05f3\u05f4\u0f0b\u30fb\uff65\u200c\u200d"
)
# The planes that hold punctuation, spaces and format characters (the Basic and
# Supplementary Multilingual Planes, and the tags of plane 14); the others hold letters
# and private use only.
_PLANES = (range(0x80, 0x20000), range(0xE0000, 0xE1000))


def rewrite_text(
    text: str, links: MessageLinks, *, read: Callable[[str], str] | None = None
) -> str:
    """``text`` with every http(s) URL replaced by its tracker URL.

    ``text`` may hold lone surrogates standing for bytes its charset could not decode;
    ``read`` turns a URL holding some into what a reader's client shows (by default each
    is a U+FFFD), and the URL tracked is that one.
    """
    return _url_pattern().sub(lambda match: _replace(match.group(0), links, read), text)


def _replace(found: str, links: MessageLinks, read: Callable[[str], str] | None) -> str:
    url = _trim(found)
    shown = url
    if not url.isascii() and _has_surrogate(url):
        shown = read(url) if read is not None else _SURROGATES.sub("\ufffd", url)
    tracked = links.track(shown)
    if tracked is None:
        return found
    return tracked + found[len(url) :]


_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _has_surrogate(text: str) -> bool:
    return _SURROGATES.search(text) is not None


def _trim(url: str) -> str:
    """``url`` without trailing sentence punctuation and unbalanced closing brackets.
    Brackets are counted once, so this is linear however many there are."""
    opened = {close: url.count(open_) for close, open_ in _PAIRS.items()}
    closed = {close: url.count(close) for close in _PAIRS}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in closed and closed[last] > opened[last]:
            closed[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


def _ends_url(char: str) -> bool:
    """True for a non-ASCII character no URL in text runs through: a separator (Z*), a
    control (Cc) or an invisible format character (Cf), or punctuation (P*), except the
    few that are written inside words."""
    if char in _WORD_INTERNAL:
        return False
    category = unicodedata.category(char)
    return category[0] in "ZP" or category in ("Cc", "Cf")


@cache
def _url_pattern() -> re.Pattern[str]:
    """The URL pattern, built once on first use (walking the Unicode tables takes
    some 80 ms, which a command that rewrites no text should not pay)."""
    ranges: list[str] = []
    for plane in _PLANES:
        start = None
        for point in plane:
            ends = _ends_url(chr(point))
            if ends and start is None:
                start = point
            elif not ends and start is not None:
                ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(point - 1))}")
                start = None
        if start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(plane[-1]))}")
    stops = "".join(ranges)
    return re.compile(rf"""[hH][tT][tT][pP][sS]?://[^\s<>"'\x00-\x1f\x7f{stops}]+""")
