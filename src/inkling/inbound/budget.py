"""How much of one inbound message the parser reads: its size budget.

Inbound mail comes from anyone, unauthenticated, so the work spent on one message must be
bounded whatever arrives. Everything the rules need sits near the start of a message: in
the labelled corpus (``tests/fixtures/inbound``, 159 files) the largest message is 14 KB,
the largest text part 12 KB, a notice's own words at most 1.9 KB, the longest header value
1.9 KB, the longest ``Content-*`` field 143 bytes, and no message has more than 8
``multipart/*`` or ``message/*`` containers. The limits below leave a wide margin over those
figures (the reason is written beside each), and whatever goes past one is not read; what
was cut is said in the message's ``defects``.

The cuts are made on the raw bytes, before the stdlib parser runs, where the stdlib
itself is the cost: its parameter parser (``Content-Type: ...; a=";;;..."``) is quadratic
in the length of a field, and its feed parser checks every line against every open
boundary (and recurses once per nesting level).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

from inkling.inbound import charsets

# Raw bytes parsed. A bounce carries the returned mail, which may be megabytes of
# attachments, but the notice's own words, the delivery report and the header block of
# the returned copy all come before that mail's body. 18x the largest corpus message.
MESSAGE_BYTES = 256 * 1024
# Decoded characters of each text part that the rules read: 5x the largest text part
# of the corpus, 30x the longest notice's own words.
PART_CHARS = 64 * 1024
# Characters of one header value: 8x the longest of the corpus (a folded Received or
# ARC header), far more than any From, Subject or Auto-Submitted needs.
HEADER_CHARS = 16 * 1024
# Bytes of one ``Content-*`` field as the stdlib's parameter parser sees it: 14x the
# longest of the corpus; a boundary is at most 70 characters (RFC 2046 §5.1.1). And its
# parameters: that parser counts the quotes before every ";" (``;`` inside quotes cost
# 5 ms a field at 1,000 of them), a real field has three or four.
CONTENT_FIELD_BYTES = 2 * 1024
CONTENT_PARAMETERS = 16
# ``multipart/*`` and ``message/*`` containers: 4x the most of the corpus. The feed parser
# checks each line against every open boundary, so a line costs up to this many checks.
CONTAINERS = 32
# Defects listed for one message, and characters of each (their text may quote the mail).
DEFECTS = 20
DEFECT_CHARS = 200

_CONTENT_FIELD = re.compile(rb"^content-[a-z0-9-]*[ \t]*:", re.IGNORECASE | re.MULTILINE)
_CONTAINER = re.compile(
    rb"^content-type[ \t]*:[ \t]*(?:\r?\n[ \t]+)?(?:multipart|message)/",
    re.IGNORECASE | re.MULTILINE,
)


def trim(raw: bytes) -> tuple[bytes, list[str]]:
    """``raw`` cut to the budget, and a defect for each kind of cut that was made."""
    defects: list[str] = []
    if len(raw) > MESSAGE_BYTES:
        raw = raw[:MESSAGE_BYTES]
        defects.append(f"message longer than {MESSAGE_BYTES // 1024} KiB: the rest was not read")
    raw, cut = _containers(raw)
    if cut:
        defects.append(f"more than {CONTAINERS} multipart or message parts: the rest was not read")
    raw, cut, replaced = _content_fields(raw)
    if cut:
        defects.append(
            f"a Content-* field longer than {CONTENT_FIELD_BYTES} bytes "
            f"or with more than {CONTENT_PARAMETERS} parameters was cut"
        )
    if replaced:
        defects.append("an RFC 2231 parameter names no character set: read as US-ASCII")
    return raw, defects


def _containers(raw: bytes) -> tuple[bytes, bool]:
    """``raw`` up to the line that opens one container too many."""
    for count, match in enumerate(_CONTAINER.finditer(raw), 1):
        if count > CONTAINERS:
            return raw[: match.start()], True
    return raw, False


def _content_fields(raw: bytes) -> tuple[bytes, bool, bool]:
    """``raw`` with each over-long ``Content-*`` field (continuation lines included) cut,
    and RFC 2231 parameters that name no charset given ``us-ascii`` (``charsets``).

    Each field is scanned once from its first line to its last, so this is linear.
    Returns the bytes, whether a field was cut, and whether a charset was replaced.
    """
    pieces: list[bytes] = []
    done = 0
    cut = replaced = False
    for match in _CONTENT_FIELD.finditer(raw):
        start = match.start()
        if start < done:
            continue
        end = _field_end(raw, start)
        keep = min(end - start, CONTENT_FIELD_BYTES, _before_parameter(raw, start, end))
        field = raw[start:end]
        if keep < end - start:
            newline = b"\r\n" if field.endswith(b"\r\n") else b"\n"
            field = field[:keep].rstrip(b"\r\n") + newline
            cut = True
        if b"*" in field:
            field, fixed = charsets.plain_parameters(field)
            replaced = replaced or fixed
        if field != raw[start:end]:
            pieces.extend((raw[done:start], field))
            done = end
    if not pieces:
        return raw, cut, replaced
    pieces.append(raw[done:])
    return b"".join(pieces), cut, replaced


def _before_parameter(raw: bytes, start: int, end: int) -> int:
    """How many bytes of the field come before its parameter after ``CONTENT_PARAMETERS``."""
    position = start
    for _ in range(CONTENT_PARAMETERS + 1):
        position = raw.find(b";", position, end) + 1
        if position == 0:
            return end - start
    return position - 1 - start


def _field_end(raw: bytes, start: int) -> int:
    """Where the header field starting at ``start`` ends: after its last continuation line."""
    end = len(raw)
    position = start
    while True:
        newline = raw.find(b"\n", position)
        if newline < 0:
            return end
        position = newline + 1
        if raw[position : position + 1] not in (b" ", b"\t"):
            return position


def unread(part: Message, *, headers: bool = True) -> Iterator[str]:
    """A defect for each thing of ``part`` that the rules read only the start of: a text
    part over ``PART_CHARS`` (as decoded bytes), a header value over ``HEADER_CHARS``
    (unless ``headers`` is false: a report's field block is read whole)."""
    for name, value in part.raw_items() if headers else ():
        if len(str(value)) > HEADER_CHARS:
            end = "end" if name.lower() == "references" else "start"  # see thread.parent
            yield (
                f"the {name[:40]!r} header is longer than {HEADER_CHARS // 1024} Ki characters: "
                f"only its {end} was read"
            )
    if part.get_content_maintype() == "text" and not part.is_multipart():
        try:  # decoded bytes are never more than the bytes written, so most need no decoding
            written = len(part.get_payload(decode=False))
            data = part.get_payload(decode=True) if written > PART_CHARS else None
        except (LookupError, UnicodeError, ValueError, TypeError, AssertionError):
            return
        if isinstance(data, bytes) and len(data) > PART_CHARS:
            yield (
                f"a text part is longer than {PART_CHARS // 1024} KiB: "
                f"only its first {PART_CHARS:,} characters were read"
            )


def defects(found: list[str]) -> tuple[str, ...]:
    """At most ``DEFECTS`` distinct defects, each at most ``DEFECT_CHARS`` characters."""
    unique = list(dict.fromkeys(d[:DEFECT_CHARS] for d in found))
    if len(unique) > DEFECTS:
        more = len(unique) - DEFECTS + 1
        unique = [*unique[: DEFECTS - 1], f"and {more} more defects"]
    return tuple(unique)
