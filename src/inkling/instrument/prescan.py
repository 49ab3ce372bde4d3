"""The charset an HTML document declares in its own ``<meta>``, found as browsers find it.

This is the HTML Standard's "prescan a byte stream to determine its encoding"
(https://html.spec.whatwg.org/multipage/parsing.html#prescan-a-byte-stream-to-determine-its-encoding)
over the first 1,024 bytes, as the Standard suggests: comments and other tags are stepped
over, and the first ``<meta charset=...>``, or ``<meta http-equiv="Content-Type"
content="...; charset=...">`` with both attributes, wins. It returns the label as written;
:mod:`.charsets` looks it up. Every loop moves forward, and the window is 1,024 bytes.
"""

from __future__ import annotations

from collections.abc import Callable

_WINDOW = 1024
_SPACE = b"\t\n\x0c\r "
_SPACE_OR_SLASH = _SPACE + b"/"
_AFTER_META = frozenset(bytes([byte]) for byte in _SPACE_OR_SLASH)
_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def meta_charset(document: bytes, known: Callable[[str], bool]) -> str | None:
    """The charset label of the document's first meta declaration whose label ``known``
    accepts (the Standard's "get an encoding"), or None."""
    data = document[:_WINDOW].lower()  # only ASCII letters change: names and values are ASCII
    position, end = 0, len(data)
    while position < end:
        if data.startswith(b"<!--", position):
            close = data.find(b"-->", position + 2)
            if close == -1:
                return None
            position = close + 3
            continue
        if data.startswith(b"<meta", position) and data[position + 5 : position + 6] in _AFTER_META:
            label, position = _meta(data, position + 6, known)
            if label is not None:
                return label
            continue
        if data.startswith(b"<", position) and _starts_tag(data, position + 1):
            position = _skip_tag(data, position)
            continue
        if data[position : position + 2] in (b"<!", b"</", b"<?"):
            close = data.find(b">", position + 2)
            if close == -1:
                return None
            position = close + 1
            continue
        position += 1
    return None


def _starts_tag(data: bytes, position: int) -> bool:
    """An ASCII letter, or "/" and an ASCII letter: a start or end tag."""
    if position < len(data) and data[position] in _LETTERS:
        return True
    return data[position : position + 1] == b"/" and data[position + 1 : position + 2].isalpha()


def _skip_tag(data: bytes, position: int) -> int:
    """Past a tag that is not a meta: to the first space or ">", then its attributes."""
    while position < len(data) and data[position] not in b"\t\n\x0c\r >":
        position += 1
    while True:
        attribute, position = _attribute(data, position)
        if attribute is None:
            return position + 1


def _meta(data: bytes, position: int, known: Callable[[str], bool]) -> tuple[str | None, int]:
    """Read a meta tag's attributes from ``position``; (its charset label, where the
    prescan goes on)."""
    seen: set[bytes] = set()
    got_pragma, need_pragma = False, None
    charset: str | None = None  # "" stands for the Standard's failure: a label it does not know
    while True:
        attribute, position = _attribute(data, position)
        if attribute is None:
            break
        name, value = attribute
        if name in seen:
            continue
        seen.add(name)
        if name == b"http-equiv" and value == b"content-type":
            got_pragma = True
        elif name == b"content" and charset is None:
            found = _charset_in_content(value)
            if found is not None and known(found):
                charset, need_pragma = found, True
        elif name == b"charset" and charset is None:
            label = value.decode("latin-1")
            charset, need_pragma = (label if known(label) else ""), False
    position += 1
    if need_pragma is None or (need_pragma and not got_pragma) or not charset:
        return None, position
    return charset, position


def _attribute(  # noqa: C901 (the HTML Standard's "get an attribute" steps, in order)
    data: bytes, position: int
) -> tuple[tuple[bytes, bytes] | None, int]:
    """The Standard's "get an attribute": ((name, value) or None at ">" or the end, the
    position after it)."""
    end = len(data)
    while position < end and data[position] in _SPACE_OR_SLASH:
        position += 1
    if position >= end or data[position] == ord(">"):
        return None, position
    start = position
    position += 1  # the first character is part of the name, even "="
    while position < end and data[position] not in b"=\t\n\x0c\r />":
        position += 1
    name = data[start:position]
    while position < end and data[position] in _SPACE:
        position += 1
    if position >= end or data[position] != ord("="):
        return (name, b""), position
    position += 1
    while position < end and data[position] in _SPACE:
        position += 1
    if position >= end:
        return (name, b""), position
    quote = data[position]
    if quote in b"\"'":
        close = data.find(bytes([quote]), position + 1)
        if close == -1:
            return None, end
        return (name, data[position + 1 : close]), close + 1
    if quote == ord(">"):
        return (name, b""), position
    start = position
    while position < end and data[position] not in b"\t\n\x0c\r >":
        position += 1
    return (name, data[start:position]), position


def _charset_in_content(value: bytes) -> str | None:
    """The Standard's "extract a character encoding from a meta element" for
    ``content="text/html; charset=..."``."""
    position = 0
    while True:
        found = value.find(b"charset", position)
        if found == -1:
            return None
        position = found + len(b"charset")
        while value[position : position + 1] in (b"\t", b"\n", b"\x0c", b"\r", b" "):
            position += 1
        if value[position : position + 1] != b"=":
            continue
        position += 1
        while value[position : position + 1] in (b"\t", b"\n", b"\x0c", b"\r", b" "):
            position += 1
        quote = value[position : position + 1]
        if quote in (b'"', b"'"):
            close = value.find(quote, position + 1)
            return None if close == -1 else value[position + 1 : close].decode("latin-1")
        stop = position
        while stop < len(value) and value[stop] not in b"\t\n\x0c\r ;":
            stop += 1
        return value[position:stop].decode("latin-1") or None
