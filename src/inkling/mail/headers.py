"""Header fields of a raw message, read and edited as bytes.

The relay forwards what the helpdesk sent byte for byte (a DKIM signature may cover it),
so it never re-serialises a message through :mod:`email`: it removes or prepends whole
header fields and leaves every other byte where it was.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.utils import parseaddr

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

_FIELD_NAME = re.compile(rb"([!-9;-~]+)[ \t]*:")


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One field: its lowercase name, where it lies in the message, and its raw value."""

    name: str
    start: int
    end: int
    value: bytes

    def unfolded(self) -> str:
        """The value unfolded, its encoded words left as they are: what an address parser
        must read (a display name decoded first could hold the comma that splits it)."""
        unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", self.value).strip()
        return _storable(unfolded.decode("utf-8", errors="replace"))

    def decoded(self) -> str:
        """The value unfolded and its encoded words decoded as they say, whatever they
        decode to (NUL, lone surrogates, line breaks), or as written when a charset is
        unknown or the bytes do not fit it; HeaderParseError when an encoded word is
        malformed. For checking a field (the API refuses such values); everything else
        reads :meth:`text`."""
        unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", self.value).strip()
        raw = unfolded.decode("utf-8", errors="replace")
        try:
            return str(make_header(decode_header(raw)))
        except (UnicodeError, LookupError, ValueError):  # not HeaderParseError: that goes up
            return raw

    def text(self) -> str:
        """The value unfolded and with RFC 2047 encoded words decoded: only with charsets
        that name a text encoding (``=?rot13?...`` or ``=?zlib?...`` stay as written), and
        without NUL or lone surrogates (UTF-7 and ``unicode-escape`` can make both), which
        no store can keep."""
        unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", self.value).strip()
        raw = unfolded.decode("utf-8", errors="replace")
        try:
            words = decode_header(raw)
            if any(charset and not _is_text_encoding(charset) for _, charset in words):
                return _storable(raw)
            return _storable(str(make_header(words)))
        except (UnicodeError, LookupError, ValueError, HeaderParseError):
            return _storable(raw)


def header_fields(raw: bytes) -> list[HeaderField]:
    """The fields of the header block, in order (continuation lines belong to their field).

    Lines that are not fields (a malformed header) are skipped; the block ends at the first
    empty line.
    """
    found: list[HeaderField] = []
    position = 0
    while position < len(raw):
        line_end = _line_end(raw, position)
        line = raw[position:line_end]
        if line in (b"\n", b"\r\n", b""):
            break
        end = line_end
        while end < len(raw) and raw[end : end + 1] in (b" ", b"\t"):
            end = _line_end(raw, end)
        match = _FIELD_NAME.match(raw, position, line_end)
        if match:
            name = match.group(1).decode("ascii").lower()
            found.append(HeaderField(name, position, end, raw[match.end() : end]))
        position = end
    return found


def first_value(raw: bytes, name: str) -> str | None:
    """The decoded value of the first ``name`` field, or None if there is none."""
    for field in header_fields(raw):
        if field.name == name:
            return field.text()
    return None


def first_address(raw: bytes, name: str) -> str:
    """The address of the first ``name`` field (From, say), '' if there is none; read
    from the field as written, so an encoded display name cannot change it."""
    for field in header_fields(raw):
        if field.name == name:
            return parseaddr(field.unfolded())[1]
    return ""


def remove_fields(raw: bytes, names: set[str]) -> bytes:
    """``raw`` without every field whose (lowercase) name is in ``names``."""
    doomed = [f for f in header_fields(raw) if f.name in names]
    if not doomed:
        return raw
    pieces, last = [], 0
    for field in doomed:
        pieces.append(raw[last : field.start])
        last = field.end
    pieces.append(raw[last:])
    return b"".join(pieces)


def prepend_field(raw: bytes, name: str, value: str) -> bytes:
    """``raw`` with ``name: value`` as its first field, in the message's line ending."""
    return f"{name}: {value}".encode() + line_ending(raw) + raw


def line_ending(raw: bytes) -> bytes:
    """CRLF or LF, whichever the message's first line ends with."""
    newline = raw.find(b"\n")
    return b"\r\n" if newline > 0 and raw[newline - 1 : newline] == b"\r" else b"\n"


def _line_end(raw: bytes, start: int) -> int:
    newline = raw.find(b"\n", start)
    return len(raw) if newline < 0 else newline + 1


def _is_text_encoding(charset: str) -> bool:
    try:
        return bool(codecs.lookup(charset)._is_text_encoding)
    except LookupError:
        return False


def _storable(text: str) -> str:
    """``text`` without NUL, and with lone surrogates replaced by U+FFFD."""
    if text.isprintable():
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group(0) == "\x00" else "\ufffd", text)
