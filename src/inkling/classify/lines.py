"""``inkling classify``: JSON lines of hits in, one verdict line per hit out, in order.

All lines are read first, because the hits of one message are judged together wherever
they stand in the input. A line that is not a hit gets an ``error`` object in its place,
so the output still lines up with the input and nothing else is lost.

A line is read as JSON (RFC 8259), which is stricter than Python's ``json``: ``NaN`` and
``Infinity`` are refused, and so are numbers of more than 4,300 digits (Python's own
limit: reading a longer one costs quadratic time) and nesting deeper than Python's
recursion limit, each as an error object rather than a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from inkling.classify.classifier import Classifier
from inkling.classify.hit import Hit
from inkling.errors import HitError

_MAX_DIGITS = 4300
#: What ``read_lines`` decodes an invalid UTF-8 byte to (``surrogateescape``).
_UNDECODED = re.compile("[\udc80-\udcff]")


def read_lines(data: bytes) -> list[str]:
    """The lines of an input file: split at LF only (a CR before it dropped), so that a
    U+2028 or a form feed inside a JSON string does not split a line as
    ``str.splitlines`` would; a byte order mark at the start ignored; a byte that is not
    UTF-8 kept as a lone surrogate, for :func:`classify_lines` to report on its line."""
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def classify_lines(lines: Iterable[str], classifier: Classifier) -> Iterator[dict[str, Any]]:
    """One output object per non-blank input line: a verdict, or ``{"line", "error"}``."""
    parsed: list[Hit | dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            parsed.append(Hit.from_json(_decode(line)))
        except HitError as exc:
            parsed.append({"line": number, "error": str(exc)})
    hits = [h for h in parsed if isinstance(h, Hit)]
    judged = iter(classifier.classify(hits))
    for item in parsed:
        if isinstance(item, Hit):
            yield next(judged).as_json(item.message)
        else:
            yield item


def _decode(line: str) -> Any:
    """One line as JSON; HitError saying why it is not."""
    undecoded = _UNDECODED.search(line)
    if undecoded:
        raise HitError(f"not UTF-8: byte 0x{ord(undecoded.group()) - 0xDC00:02X}")
    try:
        return json.loads(line, parse_constant=_constant, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise HitError(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError as exc:
        raise HitError("not JSON that can be read: nested too deeply") from exc


def _constant(name: str) -> Any:
    raise HitError(f"not JSON: {name} is not a JSON number")


def _integer(digits: str) -> int:
    if len(digits) > _MAX_DIGITS:
        raise HitError(f"not JSON that can be read: a number of {len(digits)} digits")
    return int(digits)
