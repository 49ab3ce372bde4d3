"""Which charsets a mail names are character sets, and text decoded without trusting them.

A charset comes from whoever sent the mail, and Python's codec registry knows far more
than character sets: ``rot13``, ``base64`` and ``zlib`` turn bytes into bytes, ``punycode``
and ``idna`` spell domain names, the escape codecs read Python literals. A name may also
hold a NUL or be megabytes long. The stdlib raises on several of these (``ValueError:
embedded null character``, ``UnicodeError`` from punycode) in places a parser does not
expect, such as the boundary of a multipart given in RFC 2231 form. Here a charset is used
only when it is a character set; anything else is read as UTF-8, else Latin-1, and said.
"""

from __future__ import annotations

import codecs
import re
from email.message import Message
from functools import lru_cache

# Python codecs that turn bytes into text but are not character sets of mail: punycode and
# idna spell domain names (punycode's decoder is quadratic), the escape codecs read Python
# literals, "undefined" always fails. Codecs from bytes to bytes (base64, zlib, rot13...)
# are refused by their own codec information.
_NOT_CHARSETS = frozenset({"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined"})
# The charset of an RFC 2231 extended parameter: ``name*=charset'language'value`` (or
# ``name*0*=`` for the first of its continuations).
_EXTENDED = re.compile(rb"(\*(?:0\*)?[ \t]*=[ \t]*)([^'\";\s]*)'")
_SHOWN = 40  # characters of a charset name quoted in a defect


@lru_cache(maxsize=256)
def text_codec(charset: str) -> str | None:
    """The Python codec that decodes ``charset`` into text, or ``None`` when there is none."""
    name = charset.strip().split("*", 1)[0]  # RFC 2231 language suffix ("utf-8*en")
    if not name or len(name) > 64:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text in the declared charset, else UTF-8, else Latin-1 (which cannot fail)."""
    for candidate in (text_codec(charset) if charset else None, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeError):
            continue
    return data.decode("latin-1")


def declared(part: Message) -> str | None:
    """The charset a part declares, lowercased (``None`` when absent or unreadable)."""
    try:
        return part.get_content_charset()
    except (LookupError, UnicodeError, ValueError, TypeError):  # RFC 2231 with a NUL...
        return None


def problem(part: Message) -> str | None:
    """What is wrong with the charset a text part declares, or ``None`` when it is usable."""
    if part.get_content_maintype() != "text":
        return None
    try:
        written = part.get_param("charset")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return "the charset parameter cannot be read: read as UTF-8, else Latin-1"
    if written is None:
        return None
    # as get_content_charset reads it (it parses the field again, so only for RFC 2231)
    named = written.lower() if isinstance(written, str) and written.isascii() else declared(part)
    if named is not None and text_codec(named) is not None:
        return None
    shown = written[2] if isinstance(written, tuple) else written
    return f"charset {shown[:_SHOWN]!r} is not a character set: read as UTF-8, else Latin-1"


def plain_parameters(field: bytes) -> tuple[bytes, bool]:
    """A ``Content-*`` field whose RFC 2231 parameters name only usable charsets.

    The stdlib decodes an extended ``boundary*=`` while it parses, and a charset with a
    NUL, or one naming punycode or idna, makes the whole parse raise. Such a charset is
    replaced by ``us-ascii`` (a boundary is ASCII anyway, RFC 2046 §5.1.1). Returns the
    field and whether anything was replaced.
    """
    replaced = False

    def usable(match: re.Match[bytes]) -> bytes:
        nonlocal replaced
        name = match.group(2).decode("ascii", "replace")
        if not name or text_codec(name) is not None:
            return match.group(0)
        replaced = True
        return match.group(1) + b"us-ascii'"

    return _EXTENDED.sub(usable, field), replaced
