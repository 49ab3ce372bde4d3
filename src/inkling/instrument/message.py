"""Instrument a whole message: find its HTML and text parts, rewrite them, splice them back.

Only the bodies of the parts Inkling instruments change, each re-encoded in the transfer
encoding it came in; headers, other parts, preambles and boundaries are copied as bytes. A
forwarded message (``message/rfc822``) and attachments are left alone: their links belong
to someone else's mail.

Each part is read in the encoding its reader's client would use (:func:`charsets.for_part`:
a mislabelled part is read as browsers and mail clients read it), so a tracked link lands
where the customer would have landed. Hostile or broken input never raises: what is wrong
is recorded in ``Instrumented.defects`` (a charset that is no text encoding, a boundary
RFC 2046 does not allow, ...) and the part it spoils is left exactly as it came.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import make_msgid, parseaddr

from inkling.errors import InstrumentError
from inkling.instrument import charsets
from inkling.instrument.html import NOTICE_STYLE, rewrite_html, tracking_tags
from inkling.instrument.links import MessageLinks
from inkling.instrument.mime import Entity, looks_like_message, parse_entity
from inkling.instrument.text import rewrite_text
from inkling.privacy.guard import Finding, scan_text, sensitive_link
from inkling.tokens import TokenCodec

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
_LINE_LIMIT = 998
_IDENTITY = ("7bit", "8bit", "binary", "")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FOLDING = re.compile(r"\r?\n[ \t]*")
_SHOWN = 60  # characters of a header value quoted in a defect


@dataclass
class Instrumented:
    """The tracked message and what Inkling needs to register it."""

    mime: bytes
    message: str
    message_id: str
    subject: str | None
    sent_at: int
    links: list[str]
    html_parts: int = 0
    text_parts: int = 0
    warnings: list[str] = field(default_factory=list)
    #: What was malformed in the message, one sentence each (as ``email`` keeps defects).
    defects: list[str] = field(default_factory=list)
    #: What the guard found (``guard=True``): when anything is, nothing was changed.
    sensitive: list[Finding] = field(default_factory=list)
    #: The kinds of the links left alone because a scanner must never follow them.
    kept_links: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Notice:
    """The disclosure line added to a tracked message, linking the customer's notice."""

    text: str  # one sentence, ASCII
    link_text: str  # the words of the link, ASCII
    url: str


@dataclass
class _Replacement:
    start: int
    end: int
    data: bytes


@dataclass(frozen=True, slots=True)
class _Part:
    """A leaf to instrument, decoded: its content and the encoding it is read in."""

    leaf: Entity
    body: bytes
    encoding: charsets.Encoding

    @property
    def is_html(self) -> bool:
        return self.leaf.content_type == "text/html"


def instrument_message(
    raw: bytes,
    *,
    codec: TokenCodec,
    base_url: str,
    message: str,
    sent_at: int,
    max_bytes: int = DEFAULT_MAX_BYTES,
    pixel: bool = True,
    honeypot: bool = True,
    guard: bool = False,
    notice: Callable[[MessageLinks], Notice] | None = None,
) -> Instrumented:
    """Rewrite the links of ``raw`` and add the open pixel; see the module docstring.

    ``guard`` first reads every HTML and text part for what must not be tracked
    (:mod:`inkling.privacy.guard`): if anything is found, the message is handed back
    unchanged with the findings. Links a scanner must never follow (a password reset, a
    one-time login) are always left as written. ``notice`` gives the disclosure line added
    at the end of each part.

    Raises InstrumentError for input that is not a message or is over ``max_bytes``.
    """
    if len(raw) > max_bytes:
        raise InstrumentError(
            f"message is {len(raw) / 2**20:.1f} MiB, over the {max_bytes / 2**20:.1f} MiB limit "
            "(INKLING_MAX_MESSAGE_BYTES)"
        )
    if not looks_like_message(raw):
        raise InstrumentError("not a MIME message: it does not start with a header block")
    defects: list[str] = []
    root = parse_entity(raw, defects=defects)
    links = MessageLinks(codec, base_url, message, sent_at, keep=sensitive_link)
    result = Instrumented(raw, message, "", None, sent_at, links.urls, defects=defects)
    result.subject = _subject(root, result)
    leaves = [leaf for leaf in root.leaves() if not leaf.is_attachment]
    html = [_read_part(raw, leaf, result) for leaf in leaves if leaf.content_type == "text/html"]
    text = [_read_part(raw, leaf, result) for leaf in leaves if leaf.content_type == "text/plain"]
    result.html_parts, result.text_parts = len(html), len(text)
    parts = [part for part in (*html, *text) if part is not None]
    if guard:
        result.sensitive = _scan(parts)
        if result.sensitive:
            result.message_id = _header_text(root.headers, "message-id", result).strip()
            return result
    shown = notice(links) if notice is not None else None
    tags = tracking_tags(links, pixel=pixel, honeypot=honeypot)
    if shown is not None:
        tags = _html_notice(shown) + tags
    replacements: list[_Replacement] = []
    for part in parts:
        if part.is_html:
            replacements.extend(_instrument_html(raw, part, links, tags or None, result))
        else:
            replacements.extend(_instrument_text(raw, part, links, shown, result))
    message_id = _header_text(root.headers, "message-id", result).strip()
    header_insert = b""
    if not message_id:
        message_id = make_msgid(domain=_sender_domain(root))
        header_insert = b"Message-ID: " + message_id.encode("ascii") + _line_ending(raw)
        result.warnings.append(f"the message had no Message-ID; added {message_id}")
    result.message_id = message_id
    result.mime = header_insert + _splice(raw, replacements)
    result.warnings.extend(links.report())
    result.kept_links = links.kept
    return result


def _read_part(raw: bytes, leaf: Entity, result: Instrumented) -> _Part | None:
    """The leaf decoded, or None (with a defect or a warning) to leave it alone."""
    body = _decode_body(raw, leaf, result)
    if body is None:
        return None
    encoding = _encoding(leaf, body, result, html=leaf.content_type == "text/html")
    return None if encoding is None else _Part(leaf, body, encoding)


def _scan(parts: list[_Part]) -> list[Finding]:
    """What the guard finds in any part, one finding per kind."""
    found: dict[str, Finding] = {}
    for part in parts:
        for finding in scan_text(part.encoding.read(part.body), is_html=part.is_html):
            found.setdefault(finding.kind, finding)
    return list(found.values())


def _html_notice(notice: Notice) -> bytes:
    text, words = html.escape(notice.text), html.escape(notice.link_text)
    url = html.escape(notice.url, quote=True)
    return (
        f'<p style="{NOTICE_STYLE}">{text} <a href="{url}" style="color:#4b5563">{words}</a></p>'
    ).encode("ascii", "xmlcharrefreplace")


def _instrument_html(
    raw: bytes, part: _Part, links: MessageLinks, tags: bytes | None, result: Instrumented
) -> list[_Replacement]:
    rewritten = rewrite_html(part.body, part.encoding, links, pixel=tags)
    result.warnings.extend(rewritten.warnings)
    result.defects.extend(rewritten.defects)
    if rewritten.html == part.body:
        return []
    return _replace_body(raw, part.leaf, rewritten.html, result)


def _instrument_text(
    raw: bytes, part: _Part, links: MessageLinks, notice: Notice | None, result: Instrumented
) -> list[_Replacement]:
    text = part.encoding.decode(part.body)
    if text is None:
        defect = f"a text/plain part is not valid {part.encoding.name}"
        result.defects.append(defect)
        result.warnings.append(f"{defect}; left untracked")
        return []
    rewritten = rewrite_text(text, links, read=part.encoding.reread)
    if notice is not None:
        newline = "\r\n" if "\r\n" in text else "\n"
        ending = "" if rewritten.endswith(("\n", "\r")) or not rewritten else newline
        rewritten += f"{ending}{newline}{notice.text} {notice.link_text}: {notice.url}{newline}"
    content = part.encoding.encode(rewritten)
    if content == part.body:
        return []
    return _replace_body(raw, part.leaf, content, result)


def _encoding(
    leaf: Entity, body: bytes, result: Instrumented, *, html: bool
) -> charsets.Encoding | None:
    """The encoding the part's reader sees it in; None (with a defect or a warning) when
    no text can be read from it, and the part is then left as it is."""
    encoding = charsets.for_part(leaf.charset_label, body, html=html)
    kind = leaf.content_type
    if encoding is None:
        label = _shown(leaf.charset_label or "")
        result.defects.append(f"a {kind} part's charset {label} is not a text encoding")
        result.warnings.append(f"a {kind} part has an unknown charset {label}; left untracked")
        return None
    if not encoding.readable:
        label = _shown(leaf.charset_label or "")
        result.warnings.append(
            f"a {kind} part's charset {label} is one browsers refuse to read; left untracked"
        )
        return None
    return encoding


def _replace_body(
    raw: bytes, leaf: Entity, content: bytes, result: Instrumented
) -> list[_Replacement]:
    """Replacements that put ``content`` in as the part's body, in its own encoding.

    A 7bit or 8bit part whose lines the longer tracker URLs push past the 998-byte limit of
    RFC 5322 would be mangled by the next relay, so such a part alone is sent as
    quoted-printable instead (its header says so; the content is the same). A part whose
    lines were over the limit already is left in its own encoding: it was never ours to fix.
    """
    original = raw[leaf.body_start : leaf.end]
    if leaf.transfer_encoding in _IDENTITY and _longest_line(
        content
    ) > _LINE_LIMIT >= _longest_line(original):
        result.warnings.append(
            f"a {leaf.content_type} part now has lines over {_LINE_LIMIT} bytes; "
            "sent as quoted-printable"
        )
        header = _with_transfer_encoding(raw[leaf.header_start : leaf.body_start])
        body = _encode_body(content, leaf, raw, "quoted-printable")
        return [_Replacement(leaf.header_start, leaf.end, header + body)]
    return [_Replacement(leaf.body_start, leaf.end, _encode_body(content, leaf, raw))]


def _longest_line(content: bytes) -> int:
    return max((len(line) for line in content.split(b"\n")), default=0)


def _with_transfer_encoding(header: bytes) -> bytes:
    """The header block with Content-Transfer-Encoding set to quoted-printable."""
    newline = _line_ending(header)
    field = re.compile(rb"^Content-Transfer-Encoding:[^\n]*\n(?:[ \t][^\n]*\n)*", re.I | re.M)
    value = b"Content-Transfer-Encoding: quoted-printable" + newline
    if field.search(header):
        return field.sub(lambda _: value, header, count=1)
    blank = header.rfind(newline + newline)
    return header[: blank + len(newline)] + value + header[blank + len(newline) :]


def _decode_body(raw: bytes, leaf: Entity, result: Instrumented) -> bytes | None:
    """The part's content with its transfer encoding undone, or None to leave it alone."""
    body = raw[leaf.body_start : leaf.end]
    encoding = leaf.transfer_encoding
    if encoding == "base64":
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", body)
        try:
            return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=True)
        except binascii.Error:
            result.defects.append(f"a {leaf.content_type} part has broken base64")
            result.warnings.append(f"a {leaf.content_type} part has broken base64; left untracked")
            return None
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)
    if encoding in _IDENTITY:
        return body
    result.defects.append(
        f"a {leaf.content_type} part has the unknown transfer encoding {_shown(encoding)}"
    )
    result.warnings.append(f"a {leaf.content_type} part has unknown encoding {_shown(encoding)}")
    return None


def _encode_body(content: bytes, leaf: Entity, raw: bytes, encoding: str | None = None) -> bytes:
    """``content`` in the part's own transfer encoding (or ``encoding``) and line endings."""
    newline = _line_ending(raw[leaf.header_start : leaf.body_start])
    encoding = encoding or leaf.transfer_encoding
    if encoding == "base64":
        encoded = base64.b64encode(content)
        lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
        ends_with_newline = raw[leaf.body_start : leaf.end].endswith(b"\n")
        return newline.join(lines) + (newline if ends_with_newline else b"")
    if encoding == "quoted-printable":
        encoded = binascii.b2a_qp(content, istext=True)
        if newline == b"\r\n":
            encoded = re.sub(rb"(?<!\r)\n", b"\r\n", encoded)
        return encoded
    return content


def _splice(raw: bytes, replacements: list[_Replacement]) -> bytes:
    pieces, last = [], 0
    for item in sorted(replacements, key=lambda r: r.start):
        pieces += [raw[last : item.start], item.data]
        last = item.end
    pieces.append(raw[last:])
    return b"".join(pieces)


def _line_ending(raw: bytes) -> bytes:
    newline = raw.find(b"\n")
    return b"\r\n" if newline > 0 and raw[newline - 1 : newline] == b"\r" else b"\n"


def _subject(root: Entity, result: Instrumented) -> str | None:
    """The Subject as a person reads it: encoded words decoded, raw 8-bit bytes read as
    UTF-8 (RFC 6532), controls shown as U+FFFD."""
    if root.headers.get("subject") is None:
        return None
    value = _header_text(root.headers, "subject", result)
    try:
        decoded = str(make_header(decode_header(value)))
    except (UnicodeError, LookupError, ValueError, MessageError):
        result.defects.append("the Subject has an encoded word that cannot be decoded")
        decoded = value
    return _CONTROLS.sub("\ufffd", decoded)


def _header_text(headers: Message, name: str, result: Instrumented) -> str:
    """A header field's value unfolded, with bytes that are not ASCII read as UTF-8
    (``email`` would make each a U+FFFD) and controls removed; "" if it is absent."""
    found = next(((k, v) for k, v in headers.raw_items() if k.lower() == name), None)
    if found is None:
        return ""
    key, value = found
    text = _FOLDING.sub(" ", value)
    if not text.isascii():
        text = text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
        result.defects.append(f"the {key} field has bytes that are not ASCII")
    if _CONTROLS.search(text):
        text = _CONTROLS.sub("", text)
        result.defects.append(f"the {key} field has control characters")
    return text


def _shown(text: str) -> str:
    """``text`` from the message, safe to print: escaped and cut short."""
    return ascii(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _sender_domain(root: Entity) -> str:
    _, address = parseaddr(str(root.headers.get("from", "")))
    domain = address.rpartition("@")[2].strip()
    return domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain) else "inkling.invalid"
