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
that are not (UTF-16, UTF-7, ISO-2022), the text is transcoded to UTF-8 and back, and only
if decoding and encoding it again gives back the very same bytes. An href is read the way
a browser reads the page (:meth:`Encoding.read`: windows-1252 for Latin-1, a byte that does
not decode is a U+FFFD).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from inkling.instrument.charsets import UTF8, Encoding, lookup
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
    rb"|(?P<cond>!--\[if[^\]>]*+\]>)"
    rb"|(?P<comment>!--)"
    rb"|(?P<raw>" + b"|".join(_RAW_TEXT) + rb")(?=[\s/>])"
    rb"|(?P<body>/body)(?=[\s/>])"
    rb")"
)
_DQ, _SQ, _UQ = (_SCAN.groupindex[name] for name in ("dq", "sq", "uq"))
_COMMENT_END = re.compile(rb"--!?>")
_ATTRIBUTE = re.compile(
    rb"""[\s/]*+(?:(?P<end>>)|(?P<name>[^\s"'>/=][^\s"'>/=]*+)"""
    rb"""(?:\s*+=\s*+(?:"(?P<dq>[^"]*+)"|'(?P<sq>[^']*+)'|(?P<uq>[^\s>]*+)))?)"""
)
_RAW_END = {name: re.compile(rb"</" + name + rb"[\s/>]") for name in _RAW_TEXT}
_UNSEEN = b"unseen"  # not None: None caches "leave this href alone"

PIXEL_STYLE = (
    "display:block;width:1px;height:1px;max-width:1px;max-height:1px;"
    "border:0;margin:0;padding:0;overflow:hidden"
)


@dataclass
class HtmlResult:
    html: bytes
    warnings: list[str] = field(default_factory=list)
    #: What is malformed in the part (bytes its charset cannot carry), one sentence each.
    defects: list[str] = field(default_factory=list)


# Hidden from sight, from screen readers and from the keyboard, in every client: no
# content, display:none (mso-hide:all for Outlook's Word engine), aria-hidden and
# tabindex=-1. Scanners that follow every href in the source follow it too.
HONEYPOT_STYLE = (
    "display:none!important;mso-hide:all;max-height:0;max-width:0;"
    "overflow:hidden;font-size:0;line-height:0;opacity:0"
)


#: The disclosure line: small, muted, readable (the UI's muted colour, AA on white).
NOTICE_STYLE = "font-size:12px;line-height:1.4;color:#4b5563;margin:16px 0 0"


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


def tracking_tags(links: MessageLinks, *, pixel: bool = True, honeypot: bool = True) -> bytes:
    """What goes before ``</body>``: the hidden honeypot link and the open pixel, each
    unless turned off."""
    tags = pixel_tag(links.pixel_url()) if pixel else b""
    return honeypot_tag(links.honeypot_url()) + tags if honeypot else tags


def rewrite_html(
    data: bytes, charset: str | Encoding, links: MessageLinks, *, pixel: bytes | None
) -> HtmlResult:
    """Rewrite the links in ``data`` (HTML in ``charset``, a label or an encoding) and
    insert ``pixel``. HTML in a charset that is no text encoding is left as it is."""
    encoding = lookup(charset) if isinstance(charset, str) else charset
    if encoding is None or not encoding.readable:
        shown = ascii(charset if isinstance(charset, str) else charset.name)
        warning = f"HTML in charset {shown} cannot be read; left untracked"
        return HtmlResult(data, warnings=[warning])
    if not encoding.ascii_compatible:
        return _rewrite_transcoded(data, encoding, links, pixel)
    return _Rewriter(data, encoding, links).run(pixel)


def _rewrite_transcoded(
    data: bytes, encoding: Encoding, links: MessageLinks, pixel: bytes | None
) -> HtmlResult:
    text = encoding.decode(data)
    if text is None:
        defect = f"an HTML part is not valid {encoding.name}"
        return HtmlResult(data, warnings=[f"{defect}; left untracked"], defects=[defect])
    # surrogatepass: a lone surrogate that UTF-16 carried goes through and back as it was
    result = _Rewriter(text.encode("utf-8", "surrogatepass"), UTF8, links).run(pixel)
    result.html = encoding.encode(result.html.decode("utf-8", "surrogatepass"))
    return result


class _Rewriter:
    def __init__(self, data: bytes, encoding: Encoding, links: MessageLinks) -> None:
        self.data = data
        self.lowered = data.lower()
        self.encoding = encoding
        self.links = links
        self.edits: list[tuple[int, int, bytes]] = []
        self.tracked: dict[bytes, bytes | None] = {}  # by href as written
        self.body_close: int | None = None
        self.result = HtmlResult(data)

    def run(self, pixel: bytes | None) -> HtmlResult:
        self._scan()
        if pixel is not None:
            at = len(self.data) if self.body_close is None else self.body_close
            bisect.insort(self.edits, (at, at, pixel))  # edits stay in document order
        self.result.html = self._apply()
        return self.result

    def _scan(self) -> None:
        # One loop, locals bound once: this runs for every tag of interest in every
        # message, and each Python call it saves is a measurable share of the time.
        data, search, pos = self.lowered, _SCAN.search, 0
        while (match := search(data, pos)) is not None:
            kind = match.lastgroup
            pos = match.end()
            if kind == "link":
                # the first of the three value groups that took part holds the href
                start, end = match.span(_DQ)
                if start < 0:
                    start, end = match.span(_SQ)
                    if start < 0:
                        start, end = match.span(_UQ)
                self._rewrite_href(start, end)
            elif kind == "oddlink":
                pos = self._odd_link_tag(pos)
            elif kind == "comment":
                pos = _comment_end(data, pos)
            elif kind == "raw":
                close = _RAW_END[match.group("raw")].search(data, pos)
                pos = len(data) if close is None else close.start()
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
        tracked = self.tracked.get(raw, _UNSEEN)
        if tracked is _UNSEEN:
            try:
                value = raw.decode("ascii")
            except UnicodeDecodeError:
                value = self.encoding.read(raw)
            url = self.links.track_attribute(value)
            tracked = self.tracked[raw] = None if url is None else url.encode("ascii")
        if tracked is not None:
            self.edits.append((start, end, tracked))

    def _apply(self) -> bytes:
        if not self.edits:
            return self.data
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
