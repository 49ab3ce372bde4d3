"""Reading an import: a file of JSON lines, or a request body (JSON lines or one JSON
array), into numbered lines for the :class:`~inkling.providers.importer.Importer`.

A line that is not JSON, or not an event of the format named, becomes its
:class:`IntakeError` under its number, and reading goes on: one bad line costs nothing
else. JSON is read as RFC 8259 has it (by ``orjson``, made for speed and strict):
``NaN`` and ``Infinity`` are no numbers, and an integer beyond 64 bits or a nesting deeper
than 1,024 is an error, not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from inkling.classify.lines import read_lines
from inkling.errors import IntakeError
from inkling.providers.formats import convert, events_of
from inkling.providers.importer import Item
from inkling.providers.lines import EventLine, SentLine


def read_file(data: bytes, format_name: str) -> Iterator[Item]:
    """The lines of a JSON-lines file, numbered from 1 (a provider line may hold a whole
    webhook body: SendGrid's array gives several events under one number)."""
    for number, line in enumerate(read_lines(data), 1):
        if not line.strip():
            continue
        try:
            payload = decode(line)
        except IntakeError as exc:
            yield number, exc
            continue
        for event in events_of(payload):
            yield number, converted(format_name, event)


def read_body(body: bytes, format_name: str) -> Iterator[Item]:
    """A request body: one JSON array (its items numbered from 1) or JSON lines."""
    if not body.lstrip().startswith(b"["):
        yield from read_file(body, format_name)
        return
    try:
        payload = decode(body.decode("utf-8", errors="surrogateescape"))
    except IntakeError as exc:
        yield 1, exc
        return
    for number, event in enumerate(payload, 1):
        yield number, converted(format_name, event)


def converted(format_name: str, event: Any) -> SentLine | EventLine | IntakeError | None:
    """One event as a line (None: not recorded), or the error that says why it is none."""
    try:
        return convert(format_name, event)
    except IntakeError as exc:
        return exc


def decode(text: str) -> Any:
    """One JSON value; IntakeError saying why ``text`` is not one."""
    bad = next((c for c in text if "\udc80" <= c <= "\udcff"), None) if not text.isascii() else None
    if bad is not None:
        raise IntakeError(f"not UTF-8: byte 0x{ord(bad) - 0xDC00:02X}")
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:  # also NaN, a 65-bit integer, nesting past 1024
        raise IntakeError(f"not JSON: {exc.msg} at column {exc.colno}") from None
