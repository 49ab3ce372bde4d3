"""A byte-preserving view of a MIME message: headers and body spans, parts within parts.

Python's ``email`` package re-folds headers and re-encodes parts when it writes a message
back. Inkling must hand on everything it does not instrument exactly as it came, so this
module only *locates* things: each entity is split into its header block and its body, a
multipart body into preamble, parts and epilogue along its boundary lines. Headers are read
with ``email`` (so folding, encoded words and parameters are understood), but the bytes of
the message are only ever sliced, never regenerated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_PARSER = BytesHeaderParser(policy=compat32)
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

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    @property
    def charset(self) -> str:
        return str(self.headers.get_content_charset() or "us-ascii")

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


def parse_entity(raw: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> Entity:
    """Locate the entity in ``raw[start:end]`` and, for a multipart, its parts."""
    end = len(raw) if end is None else end
    split = _HEADER_END.search(raw, start, end)
    body_start = end if split is None else split.end()
    header_end = end if split is None else split.start()
    headers = _PARSER.parsebytes(raw[start:header_end] + b"\n\n")
    entity = Entity(start, body_start, end, headers)
    if headers.get_content_maintype() == "multipart" and depth < MAX_DEPTH:
        boundary = headers.get_boundary()
        if boundary:
            entity.parts = _split_parts(raw, body_start, end, boundary.encode("latin-1"), depth)
    return entity


def _split_parts(raw: bytes, start: int, end: int, boundary: bytes, depth: int) -> list[Entity]:
    """Parts between ``--boundary`` lines; the line break before a delimiter belongs to it."""
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?=\r?\n|$)", re.M
    )
    parts: list[Entity] = []
    part_start: int | None = None
    for match in delimiter.finditer(raw, start, end):
        if part_start is not None:
            parts.append(parse_entity(raw, part_start, match.start(), depth + 1))
        if match.group(1):  # closing delimiter: the rest is epilogue
            return parts
        line_end = raw.find(b"\n", match.end(), end)
        part_start = end if line_end == -1 else line_end + 1
    if part_start is not None and part_start < end:  # no closing delimiter: last part runs on
        parts.append(parse_entity(raw, part_start, end, depth + 1))
    return parts
