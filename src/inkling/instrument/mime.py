"""A byte-preserving view of a MIME message: headers and body spans, parts within parts.

Python's ``email`` package re-folds headers and re-encodes parts when it writes a message
back. Inkling must hand on everything it does not instrument exactly as it came, so this
module only *locates* things: each entity is split into its header block and its body, a
multipart body into preamble, parts and epilogue along its boundary lines. Headers are read
with ``email`` (so folding, encoded words and parameters are understood), but the bytes of
the message are only ever sliced, never regenerated.

Malformed structure is recorded as a *defect* (a sentence) and worked around the way mail
clients do, never raised: a boundary with characters RFC 2046 does not allow is still
looked for exactly as written, bytes and all; a multipart whose boundary never appears, or
that is nested deeper than :data:`MAX_DEPTH`, is one opaque part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.errors import MessageError
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_PARSER = BytesHeaderParser(policy=compat32)
# RFC 2046, section 5.1.1: 1 to 70 bchars, the last not a space.
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# What reading a header parameter can raise on hostile input: a charset in RFC 2231 form
# that names no codec, bytes that are not ASCII, and a TypeError from email's
# decode_params when "name*=" and "name*0*=" are mixed (a CPython bug).
_PARAMETER_ERRORS = (LookupError, UnicodeError, ValueError, TypeError, MessageError)
MAX_DEPTH = 20


@dataclass
class Entity:
    """One MIME entity: ``raw[header_start:body_start]`` is its header block (including
    the blank line), ``raw[body_start:end]`` its body."""

    header_start: int
    body_start: int
    end: int
    headers: Message
    parts: list[Entity] = field(default_factory=list)
    #: The charset parameter as written (None when there is none), each byte that is
    #: not ASCII as the character of the same value.
    charset_label: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    @property
    def transfer_encoding(self) -> str:
        return str(self.headers.get("content-transfer-encoding", "7bit")).strip().lower()

    @property
    def is_attachment(self) -> bool:
        disposition = str(self.headers.get("content-disposition", "")).split(";")[0]
        return disposition.strip().lower() == "attachment"

    def leaves(self) -> list[Entity]:
        """The non-multipart entities below this one, in document order."""
        if not self.parts:
            return [self]
        return [leaf for part in self.parts for leaf in part.leaves()]


def looks_like_message(raw: bytes) -> bool:
    """True when ``raw`` begins with an RFC 5322 header line (``Name: value``)."""
    return _HEADER_LINE.match(raw) is not None


def parse_entity(
    raw: bytes,
    start: int = 0,
    end: int | None = None,
    depth: int = 0,
    *,
    defects: list[str] | None = None,
) -> Entity:
    """Locate the entity in ``raw[start:end]`` and, for a multipart, its parts; what is
    malformed is appended to ``defects``."""
    defects = [] if defects is None else defects
    end = len(raw) if end is None else end
    split = _HEADER_END.search(raw, start, end)
    body_start = end if split is None else split.end()
    header_end = end if split is None else split.start()
    headers = _PARSER.parsebytes(raw[start:header_end] + b"\n\n")
    content_type = _content_type(headers)
    entity = Entity(start, body_start, end, headers)
    entity.charset_label = _parameter(content_type, "charset", defects)
    if headers.get_content_maintype() != "multipart":
        return entity
    if depth >= MAX_DEPTH:
        defects.append(
            f"multipart parts nested deeper than {MAX_DEPTH} levels are left as they are"
        )
        return entity
    boundary = _boundary(content_type, defects)
    if boundary is not None:
        entity.parts = _split_parts(raw, body_start, end, boundary, depth, defects)
        if not entity.parts:
            shown = boundary.decode("ascii", "backslashreplace")
            defects.append(f"no part of a multipart is delimited by its boundary {shown!r}")
    return entity


def _content_type(headers: Message) -> Message:
    """A message holding only the Content-Type field, its bytes that are not ASCII as the
    Latin-1 characters of the same value: ``email`` would turn those into U+FFFD, and a
    boundary must be matched byte for byte."""
    holder = Message()
    for name, value in headers.raw_items():
        if name.lower() == "content-type":
            holder["Content-Type"] = value.encode("ascii", "surrogateescape").decode("latin-1")
            break
    return holder


def _parameter(content_type: Message, name: str, defects: list[str]) -> str | None:
    """A Content-Type parameter's value; one in RFC 2231 form whose charset cannot decode
    it is taken as written (still %-encoded), with a defect; "" (which names no charset
    and no boundary) when the parameters cannot be read at all."""
    try:
        value = content_type.get_param(name)
    except _PARAMETER_ERRORS:
        defects.append(f"the Content-Type {name} parameter cannot be read")
        return ""
    if isinstance(value, tuple):
        try:
            return str(collapse_rfc2231_value(value))
        except _PARAMETER_ERRORS:
            defects.append(f"the Content-Type {name} parameter cannot be read in its own charset")
            return str(value[2])
    return None if value is None else str(value)


def _boundary(content_type: Message, defects: list[str]) -> bytes | None:
    """The boundary's bytes as written, or None (with a defect) when there is none."""
    text = _parameter(content_type, "boundary", defects)
    if not text:
        defects.append("a multipart part has no boundary; its parts are left as they are")
        return None
    try:
        boundary = text.encode("latin-1")
    except UnicodeEncodeError:  # decoded from RFC 2231's charset'language'value form
        boundary = text.encode("utf-8")
    if _BOUNDARY.fullmatch(boundary) is None:
        defects.append(
            f"the multipart boundary {boundary!a} is not one RFC 2046 allows; "
            "its parts were found as written"
        )
    return boundary


def _split_parts(
    raw: bytes, start: int, end: int, boundary: bytes, depth: int, defects: list[str]
) -> list[Entity]:
    """Parts between ``--boundary`` lines; the line break before a delimiter belongs to it."""
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?=\r?\n|$)", re.M
    )
    parts: list[Entity] = []
    part_start: int | None = None
    for match in delimiter.finditer(raw, start, end):
        if part_start is not None:
            parts.append(parse_entity(raw, part_start, match.start(), depth + 1, defects=defects))
        if match.group(1):  # closing delimiter: the rest is epilogue
            return parts
        line_end = raw.find(b"\n", match.end(), end)
        part_start = end if line_end == -1 else line_end + 1
    if part_start is not None and part_start < end:  # no closing delimiter: last part runs on
        parts.append(parse_entity(raw, part_start, end, depth + 1, defects=defects))
    return parts
