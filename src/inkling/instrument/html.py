"""Byte-faithful link rewriting for HTML mail.

The HTML is never parsed into a tree and written back: that would reflow entities,
attribute quotes, conditional comments and whitespace that Outlook and friends depend on.
Instead one scanner walks the bytes the way an HTML tokenizer would, just far enough to
know where link attributes are, and splices new values into exactly those spans. All else
is copied through unchanged, and the pixel (with the hidden honeypot link) goes in before
the last ``</body``.

What the scanner knows:

* ordinary comments are skipped, but the inside of an Outlook conditional comment
  (``<!--[if mso]> ... <![endif]-->``) is markup Outlook renders, so it is scanned: that is
  where VML buttons (``<v:roundrect href>``, ``<v:rect href>``) live;
* ``script``, ``style``, ``title``, ``textarea`` and ``xmp`` hold raw text, never links;
* ``<a>``, ``<area>``, ``<v:roundrect>`` and ``<v:rect>`` have their ``href`` rewritten
  unless they carry ``data-inkling="off"``.

The scanner works on bytes for every charset in which ASCII characters are themselves
(UTF-8, the ISO-8859 and Windows families, the East Asian multi-byte sets). For the few
that are not (UTF-16, UTF-7, ISO-2022), the text is transcoded to UTF-8 and back.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache

from inkling.instrument.links import MessageLinks

# The patterns run on a lowercased copy of the HTML (bytes.lower() changes only A-Z, so
# every position is the same as in the original): tag and attribute names are then plain
# literals, which the regex engine matches much faster than case-insensitively. Values
# are always sliced from the original.
_ATTRIBUTE_VALUE = rb"""(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+))?+"""
_NAME_REST = rb"""[^\s"'>/=]*+"""
# An attribute that is not an opt-out (a tag with one goes the slow way, which reads it).
_ANY_ATTRIBUTE = (
    rb"""(?>[\s/]*+(?!data-inkling[\s/>=])[^\s"'>/=]""" + _NAME_REST + _ATTRIBUTE_VALUE + rb")"
)
# ... and not the href either.
_OTHER_ATTRIBUTE = (
    rb"""(?>[\s/]*+(?!(?:href|data-inkling)[\s/>=])[^\s"'>/=]"""
    + _NAME_REST
    + _ATTRIBUTE_VALUE
    + rb")"
)
_LINK_TAG_NAME = rb"(?:area|a|v:roundrect|v:rect)(?=[\s/>])"
_RAW_TEXT = (b"script", b"style", b"title", b"textarea", b"xmp")

# Everything the scanner stops at, in one pattern. A link tag with an href is matched
# whole, from "<a" to ">", with the href value captured: that is nearly every link, and it
# costs one search. Atomic groups and possessive quantifiers keep a tag that never closes
# from backtracking. A link tag the pattern does not fit ("oddlink": no href, an opt-out,
# a stray quote) is walked attribute by attribute.
_SCAN = re.compile(
    # The lookahead turns away most tags (td, span, div, closing tags) after two bytes.
    rb"<(?=a[\s/>r]|v:|!-|s[ct]|t[ie]|xm|/b)(?:"
    rb"(?P<link>" + _LINK_TAG_NAME + _OTHER_ATTRIBUTE + rb"*+[\s/]*+href\s*+=\s*+"
    rb"""(?:"(?P<dq>[^"]*+)"|'(?P<sq>[^']*+)'|(?P<uq>[^\s>]*+))"""
    + _ANY_ATTRIBUTE
    + rb"*+[\s/]*+>)"
    rb"|(?P<oddlink>" + _LINK_TAG_NAME + rb")"
    rb"|(?P<cond>!--\[if[^\]>]*\]>)"
    rb"|(?P<comment>!--)"
    rb"|(?P<raw>" + b"|".join(_RAW_TEXT) + rb")(?=[\s/>])"
    rb"|(?P<body>/body)(?=[\s/>])"
    rb")"
)
_DQ, _SQ, _UQ = (_SCAN.groupindex[name] for name in ("dq", "sq", "uq"))
_COMMENT_END = re.compile(rb"--!?>")
_ATTRIBUTE = re.compile(
    rb"""[\s/]*(?:(?P<end>>)|(?P<name>[^\s"'>/=][^\s"'>/=]*)"""
    rb"""(?:\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s>]*)))?)"""
)
_RAW_END = {name: re.compile(rb"</" + name + rb"[\s/>]") for name in _RAW_TEXT}
_NOT_ASCII_SAFE = ("utf_16", "utf_32", "utf_7", "iso2022", "hz")

PIXEL_STYLE = (
    "display:block;width:1px;height:1px;max-width:1px;max-height:1px;"
    "border:0;margin:0;padding:0;overflow:hidden"
)


@dataclass
class HtmlResult:
    html: bytes
    warnings: list[str] = field(default_factory=list)


# Hidden from sight, from screen readers and from the keyboard, in every client: no
# content, display:none (mso-hide:all for Outlook's Word engine), aria-hidden and
# tabindex=-1. Scanners that follow every href in the source follow it too.
HONEYPOT_STYLE = (
    "display:none!important;mso-hide:all;max-height:0;max-width:0;"
    "overflow:hidden;font-size:0;line-height:0;opacity:0"
)


def pixel_tag(url: str) -> bytes:
    return (
        f'<img src="{url}" width="1" height="1" alt="" border="0" style="{PIXEL_STYLE}">'
    ).encode("ascii")


def honeypot_tag(url: str) -> bytes:
    """The hidden link that no person can see or reach: a hit on it is a machine's."""
    return (
        f'<a href="{url}" aria-hidden="true" tabindex="-1" data-inkling="honeypot" '
        f'style="{HONEYPOT_STYLE}"></a>'
    ).encode("ascii")


def tracking_tags(links: MessageLinks, *, honeypot: bool = True) -> bytes:
    """What goes before ``</body>``: the hidden honeypot link (unless turned off) and
    the open pixel."""
    tags = pixel_tag(links.pixel_url())
    return honeypot_tag(links.honeypot_url()) + tags if honeypot else tags


def rewrite_html(
    data: bytes, charset: str, links: MessageLinks, *, pixel: bytes | None
) -> HtmlResult:
    """Rewrite the links in ``data`` (HTML in ``charset``) and insert ``pixel``."""
    codec = _codec_name(charset)
    if codec is not None and codec.startswith(_NOT_ASCII_SAFE):
        return _rewrite_transcoded(data, codec, links, pixel)
    return _Rewriter(data, codec or "latin-1", links).run(pixel)


@lru_cache(maxsize=256)
def _codec_name(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name.replace("-", "_")
    except LookupError:
        return None


def _rewrite_transcoded(
    data: bytes, codec: str, links: MessageLinks, pixel: bytes | None
) -> HtmlResult:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return HtmlResult(data, warnings=[f"HTML is not valid {codec}; left untracked"])
    result = _Rewriter(text.encode("utf-8"), "utf-8", links).run(pixel)
    result.html = result.html.decode("utf-8").encode(codec)
    return result


class _Rewriter:
    def __init__(self, data: bytes, charset: str, links: MessageLinks) -> None:
        self.data = data
        self.lowered = data.lower()
        self.charset = charset
        self.links = links
        self.edits: list[tuple[int, int, bytes]] = []
        self.tracked: dict[bytes, bytes | None] = {}
        self.body_close: int | None = None
        self.result = HtmlResult(data)

    def run(self, pixel: bytes | None) -> HtmlResult:
        self._scan()
        if pixel is not None:
            at = len(self.data) if self.body_close is None else self.body_close
            self.edits.append((at, at, pixel))
        self.result.html = self._apply()
        return self.result

    def _scan(self) -> None:
        data, pos = self.lowered, 0
        while (match := _SCAN.search(data, pos)) is not None:
            kind = match.lastgroup
            pos = match.end()
            if kind == "link":
                # the first of the three value groups that took part holds the href
                spans = match.regs
                span = (
                    spans[_DQ]
                    if spans[_DQ][0] >= 0
                    else spans[_SQ]
                    if spans[_SQ][0] >= 0
                    else spans[_UQ]
                )
                self._rewrite_href(*span)
            elif kind == "oddlink":
                pos = self._odd_link_tag(pos)
            elif kind == "comment":
                pos = _comment_end(data, pos)
            elif kind == "raw":
                end = _RAW_END[match.group("raw")].search(data, pos)
                pos = len(data) if end is None else end.start()
            elif kind == "body":
                self.body_close = match.start()
            # "cond": keep scanning inside the conditional comment

    def _odd_link_tag(self, pos: int) -> int:
        """Rewrite the href of a link tag whose attributes start at ``pos``, walking them one
        by one as a tokenizer would; return where the tag ends. For tags the fast pattern
        does not fit (no href, a stray quote, an opt-out to check)."""
        data = self.data
        href: tuple[int, int] | None = None
        tracking_off = False
        while pos < len(data):
            attribute = _ATTRIBUTE.match(data, pos)
            if attribute is None or attribute.end() == pos:
                pos += 1
                continue
            pos = attribute.end()
            if attribute.group("end"):
                break
            name = attribute.group("name").lower()
            value_group = _value_group(attribute)
            if name == b"href" and href is None and value_group:
                href = attribute.span(value_group)
            elif name == b"data-inkling" and value_group:
                tracking_off = attribute.group(value_group).strip().lower() == b"off"
        else:
            return pos  # the tag never closes: not a tag a client would render
        if href is not None and not tracking_off:
            self._rewrite_href(*href)
        return pos

    def _rewrite_href(self, start: int, end: int) -> None:
        raw = self.data[start:end]
        try:
            tracked = self.tracked[raw]
        except KeyError:
            tracked = self.tracked[raw] = self._track(raw, start)
        if tracked is not None:
            self.edits.append((start, end, tracked))

    def _track(self, raw: bytes, start: int) -> bytes | None:
        """The tracker URL for an href value as written, or None to leave it."""
        try:
            value = raw.decode(self.charset)
        except UnicodeDecodeError:
            self.result.warnings.append(f"link at byte {start} is not valid {self.charset}")
            return None
        tracked = self.links.track_attribute(value)
        return None if tracked is None else tracked.encode("ascii")

    def _apply(self) -> bytes:
        if not self.edits:
            return self.data
        self.edits.sort()  # only the pixel is out of order; starts never tie
        pieces, last = [], 0
        for start, end, replacement in self.edits:
            pieces.append(self.data[last:start])
            pieces.append(replacement)
            last = end
        pieces.append(self.data[last:])
        return b"".join(pieces)


def _value_group(attribute: re.Match[bytes]) -> str:
    """Which group holds the attribute's value: double-, single- or unquoted ("" if none)."""
    for group in ("dq", "sq", "uq"):
        if attribute.group(group) is not None:
            return group
    return ""


def _comment_end(data: bytes, pos: int) -> int:
    """Where a comment that opened just before ``pos`` ends (``<!-->`` is empty)."""
    if data.startswith(b">", pos):
        return pos + 1
    if data.startswith(b"->", pos):
        return pos + 2
    end = _COMMENT_END.search(data, pos)
    return len(data) if end is None else end.end()
