"""From an href as written to the URL a browser would request.

Three steps, each as the WHATWG HTML and URL standards describe them:

1. character references are decoded the way they are in attribute values (a named
   reference without ``;`` followed by ``=`` or a letter or digit stays as written, so
   ``?a=1&copy=2`` keeps its ``&copy``);
2. leading and trailing spaces and control characters are stripped, and tabs and newlines
   inside are removed;
3. the URL is parsed as the URL standard parses an ``http:`` or ``https:`` URL with no
   base. Slashes after the scheme are optional and backslashes count as slashes
   (``https:example.com`` and ``HTTP:\\\\example.com`` are ``https://example.com/`` and
   ``http://example.com/``); the authority ends at the first ``/``, ``\\``, ``?`` or ``#``;
   its host goes through the standard's host parser (:mod:`inkling.instrument.hosts`:
   IDNA as browsers apply it, IPv4 and IPv6 forms, forbidden code points) and its port
   must be digits up to 65535. Where the parser fails, :class:`UntrackableURL` says why.

What comes out is ASCII: the scheme and authority as the browser serialises them, and the
path, query and fragment as written except that each character the standard's
percent-encode set for that component names is escaped (non-ASCII as UTF-8; a backtick
stays in a query but not in a path; a quote is escaped only in a query). Existing ``%XX``
escapes and dot segments are kept exactly: the browser that follows the redirect resolves
them as it would have for the original link. (A browser showing a page in a legacy charset
would encode the query in that charset, but webmail shows every message in a UTF-8 page,
and that is where most support mail is read; so the query is UTF-8 too.)

A URL that is plain already (printable ASCII that no component escapes, and an ordinary
host name) is used exactly as written; that is nearly every link, and it costs one regex.
"""

from __future__ import annotations

import re
from html import unescape
from html.entities import html5
from urllib.parse import quote

from inkling.instrument.hosts import HostError, parse_host

_REFERENCE = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")
# The names that may stand without ";", longest first so the longest one is matched.
_LEGACY_NAME = re.compile(
    "|".join(sorted((n for n in html5 if not n.endswith(";")), key=len, reverse=True))
)
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_STRIP = "".join(chr(c) for c in range(0x21))
_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
# What stays as written in each component (the URL standard's percent-encode sets,
# inverted; C0 controls, space and everything above U+007E are always escaped); "%"
# stays, so existing escapes are kept.
_USERINFO_SAFE = "".join(c for c in _PRINTABLE if c not in '"#<>?`{}/:;=@[\\]^|')
_PATH_SAFE = "".join(c for c in _PRINTABLE if c not in '"#<>?`{}')
_QUERY_SAFE = "".join(c for c in _PRINTABLE if c not in "\"#<>'")
_FRAGMENT_SAFE = "".join(c for c in _PRINTABLE if c not in '"<>`')
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*+):")
_AUTHORITY_END = re.compile(r"[/\\?#]")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_MAX_PORT = 65535
# An http(s) URL that is already what a browser requests: "//", a host name of letters,
# digits and hyphens whose labels do not start with xn-- and whose last label starts with
# a letter (so it is no IPv4 address), a port of up to four digits, then printable ASCII
# that no component would escape (no space, ", ', <, >, `, {, }, backslash). Possessive
# quantifiers: the pattern never backtracks (a host with a trailing dot goes the careful
# way, which is right too).
PLAIN_WEB_URL = re.compile(
    r"[hH][tT][tT][pP][sS]?://"
    r"(?![xX][nN]--)(?:[A-Za-z0-9-]++\.(?![xX][nN]--))*+[A-Za-z][A-Za-z0-9-]*+"
    r"(?::[0-9]{1,4})?"
    r"(?:[/?#][!#-&(-;=?-\[\]-_a-z|~]*+)?"
)


class UntrackableURL(ValueError):
    """A browser's URL parser would refuse this link; the message says why."""


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
    legacy = _LEGACY_NAME.match(body)
    if legacy is None:
        return match.group(0)
    name = legacy.group(0)
    rest = body[len(name) :] or match.string[match.end() : match.end() + 1]
    if rest[:1] == "=" or rest[:1].isalnum():
        return match.group(0)  # legacy rule for attributes: leave as written
    return html5[name] + body[len(name) :]


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
    """The ASCII URI a browser requests for the http(s) link ``url`` (see the module
    docstring), or UntrackableURL where a browser's parser would fail."""
    url = clean_url(url)
    if PLAIN_WEB_URL.fullmatch(url) is not None:
        return url
    if not url.isascii() and _SURROGATE.search(url):
        url = _SURROGATE.sub("\ufffd", url)  # not text: what a decoder makes of it
    scheme_match = _SCHEME.match(url)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme_match is None or scheme not in _DEFAULT_PORTS:
        raise UntrackableURL("not an http: or https: URL")
    # After a special scheme, any run of slashes and backslashes leads to the authority.
    rest = url[scheme_match.end() :].lstrip("/\\")
    end = _AUTHORITY_END.search(rest)
    split = len(rest) if end is None else end.start()
    authority, tail = rest[:split], rest[split:]
    tail, hash_sign, fragment = tail.partition("#")
    path, question, query = tail.partition("?")
    return (
        scheme
        + "://"
        + _authority(authority, scheme)
        + (quote(path.replace("\\", "/"), safe=_PATH_SAFE) or "/")
        + question
        + quote(query, safe=_QUERY_SAFE)
        + hash_sign
        + quote(fragment, safe=_FRAGMENT_SAFE)
    )


def _authority(authority: str, scheme: str) -> str:
    """Userinfo, host and port as the URL standard's authority, host and port states read
    and its serialiser writes them."""
    userinfo, at_sign, host_port = authority.rpartition("@")
    if at_sign and not host_port:
        raise UntrackableURL("credentials but no host")
    host_text, port = _split_port(host_port)
    if not host_text:
        raise UntrackableURL("no host")
    try:
        host = parse_host(host_text)
    except HostError as exc:
        raise UntrackableURL(str(exc)) from exc
    return _userinfo(userinfo) + host + _port(port, scheme)


def _split_port(host_port: str) -> tuple[str, str | None]:
    """(host, port): the port follows the first colon outside square brackets."""
    position = 0
    while True:
        colon = host_port.find(":", position)
        bracket = host_port.find("[", position, None if colon == -1 else colon)
        if bracket == -1:
            break
        closing = host_port.find("]", bracket)
        if closing == -1:
            return host_port, None
        position = closing + 1
    if colon == -1:
        return host_port, None
    return host_port[:colon], host_port[colon + 1 :]


def _port(port: str | None, scheme: str) -> str:
    if not port:
        return ""  # "host:" with nothing after it has no port
    if not port.isascii() or not port.isdigit():
        raise UntrackableURL("a port that is not a number")
    significant = port.lstrip("0") or "0"
    if len(significant) > len(str(_MAX_PORT)) or int(significant) > _MAX_PORT:
        raise UntrackableURL(f"a port over {_MAX_PORT}")
    return "" if significant == _DEFAULT_PORTS[scheme] else ":" + significant


def _userinfo(userinfo: str) -> str:
    """Every "@" but the last is part of the credentials; an empty username and password
    leave no trace."""
    username, _, password = userinfo.partition(":")
    if not username and not password:
        return ""
    encoded = quote(username, safe=_USERINFO_SAFE)
    if password:
        encoded += ":" + quote(password, safe=_USERINFO_SAFE)
    return encoded + "@"
