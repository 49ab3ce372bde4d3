"""From an href as written to the URL a browser would request.

Three steps, each as the WHATWG HTML and URL standards describe them:

1. character references are decoded the way they are in attribute values (a named
   reference without ``;`` followed by ``=`` or a letter or digit stays as written, so
   ``?a=1&copy=2`` keeps its ``&copy``);
2. leading and trailing spaces and control characters are stripped, and tabs and newlines
   inside are removed;
3. an IRI becomes a URI: the host goes through IDNA as browsers apply it (UTS #46,
   non-transitional: ``straße`` stays ``xn--strae-oqa``), a backslash in the path is a
   slash, and each component is percent-encoded with the URL standard's own set (a
   backtick stays in a query but not in a path; a quote is escaped in a query only).
   Non-ASCII is encoded as UTF-8. (A browser showing a page in a legacy charset would
   encode the query in that charset, but webmail shows every message in a UTF-8 page, and
   that is where most support mail is read; so the query is UTF-8 too.)

Existing ``%XX`` escapes are kept exactly: the redirect must land on the URL as written.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import unescape
from html.entities import html5
from urllib.parse import quote

import idna

_REFERENCE = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")
_LEGACY_NAMES = sorted((n for n in html5 if not n.endswith(";")), key=len, reverse=True)
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_STRIP = "".join(chr(c) for c in range(0x21))
_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
# What stays as written in each component of an http(s) URL (the WHATWG URL standard's
# percent-encode sets, inverted); "%" stays, so existing escapes are kept.
_PATH_SAFE = "".join(c for c in _PRINTABLE if c not in '"<>`{}')
_QUERY_SAFE = "".join(c for c in _PRINTABLE if c not in "\"<>'")
_FRAGMENT_SAFE = "".join(c for c in _PRINTABLE if c not in '"<>`')
# Characters that send a URL down the careful path; without them it is used as it is.
_NOT_PLAIN = frozenset("\"<>`{}'\\")


def decode_attribute(value: str) -> str:
    """``value`` with its character references decoded as in an HTML attribute."""
    if "&" not in value:
        return value
    if value.count("&") == value.count("&amp;"):  # the common case: only escaped ampersands
        return value.replace("&amp;", "&")
    return _REFERENCE.sub(_decode_reference, value)


def _decode_reference(match: re.Match[str]) -> str:
    body = match.group(1)
    if body.startswith("#") or body.endswith(";"):
        if body.startswith("#") or body in html5:
            return unescape(match.group(0))
        return match.group(0)
    following = match.string[match.end() : match.end() + 1]
    for name in _LEGACY_NAMES:
        if body.startswith(name):
            rest = body[len(name) :] or following
            if rest[:1] == "=" or rest[:1].isalnum():
                return match.group(0)  # legacy rule for attributes: leave as written
            return html5[name] + body[len(name) :]
    return match.group(0)


def clean_url(href: str) -> str:
    """Strip surrounding whitespace and controls; remove tabs and newlines inside."""
    url = href.strip(_STRIP)
    if "\t" in url or "\n" in url or "\r" in url:
        return _TAB_NEWLINE.sub("", url)
    return url


def is_web_url(url: str) -> bool:
    """True for http: and https: URLs, in any letter case."""
    scheme = url[:6].lower()
    return scheme == "https:" or scheme[:5] == "http:"


def to_uri(url: str) -> str:
    """The ASCII URI a browser requests for ``url`` (see the module docstring)."""
    if _is_plain(url):
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        return quote(url, safe=_FRAGMENT_SAFE, errors="surrogatepass")
    authority_end = len(rest)
    for delimiter in "/\\?#":
        found = rest.find(delimiter)
        if found != -1:
            authority_end = min(authority_end, found)
    authority, tail = rest[:authority_end], rest[authority_end:]
    tail, hash_sign, fragment = tail.partition("#")
    path, question, query = tail.partition("?")
    return (
        scheme
        + sep
        + _ascii_authority(authority)
        + quote(path.replace("\\", "/"), safe=_PATH_SAFE, errors="surrogatepass")
        + question
        + quote(query, safe=_QUERY_SAFE, errors="surrogatepass")
        + hash_sign
        + quote(fragment, safe=_FRAGMENT_SAFE, errors="surrogatepass")
    )


def _is_plain(text: str) -> bool:
    """True when ``text`` is printable ASCII that no component would escape."""
    return text.isascii() and text.isprintable() and " " not in text and _NOT_PLAIN.isdisjoint(text)


def _ascii_authority(authority: str) -> str:
    if authority.isascii():
        return quote(authority, safe=_PATH_SAFE)
    userinfo, at, hostport = authority.rpartition("@")
    host, colon, port = hostport.partition(":")
    return quote(userinfo, safe=_PATH_SAFE) + at + _ascii_host(host) + colon + port


@lru_cache(maxsize=1024)
def _ascii_host(host: str) -> str:
    """The host as browsers send it: UTS #46 non-transitional IDNA, and plain Punycode for
    labels the strict IDNA rules refuse but browsers accept (emoji, say). Cached: a support
    team links to few hosts, and IDNA is slow."""
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return ".".join(_punycode_label(label) for label in host.split("."))


def _punycode_label(label: str) -> str:
    if label.isascii():
        return label.lower()
    try:
        return "xn--" + label.lower().encode("punycode").decode("ascii")
    except UnicodeError:
        return quote(label, safe="")
