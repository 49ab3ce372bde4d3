"""What the ``inkling`` command prints: one plain line on stderr for people, JSON on stdout
for machines, and never a byte from outside that a terminal would act on.

A Message-ID, a user agent, a URL or a subject can carry ESC, BEL, an OSC 8 hyperlink or
C1 controls such as U+009B (CSI): printed raw, they could recolour, retitle or rewrite the
agent's terminal. Every value that came from outside goes through :func:`printable` (for
text) or :func:`dumps` (for JSON) first.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, NoReturn

# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text
# (bidirectional overrides and isolates, zero-width joiners and separators, the BOM, the
# tag characters that can spell out ASCII nobody sees, ...).
_INVISIBLE = (
    "\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
)
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
# In JSON text C0 controls only stand as layout between values (``json`` escapes them in
# strings); DEL, C1 and the invisible characters it leaves raw.
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_INVISIBLE}]")


def printable(text: object) -> str:
    """``text`` with every control and invisible format character written as an escape
    (``\\x1b``, ``\\u202e``), so the terminal shows it instead of obeying it."""
    value = str(text)
    return value if value.isprintable() else _UNSAFE.sub(_escape, value)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def dumps(payload: Any, *, indent: int | None = None) -> str:
    """JSON with non-ASCII text kept readable, but controls (including C1, which JSON
    itself leaves raw) and invisible format characters written as ``\\u`` escapes: still
    the same JSON value, and safe on a terminal."""
    text = json.dumps(payload, ensure_ascii=False, indent=indent)
    return _UNSAFE_IN_JSON.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    """``\\u`` escapes, as JSON writes a character beyond U+FFFF: its surrogate pair."""
    encoded = match.group(0).encode("utf-16-be")
    units = (int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2))
    return "".join(f"\\u{unit:04x}" for unit in units)


def say(line: str) -> None:
    """One plain line on stderr (never re-wrapped, so it can be grepped)."""
    print(line, file=sys.stderr, flush=True)


def fail(message: str, code: int = 1) -> NoReturn:
    say(f"inkling: {printable(message)}")
    raise SystemExit(code)
