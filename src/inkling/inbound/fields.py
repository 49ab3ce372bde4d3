"""The field blocks of machine-readable reports (RFC 3464, RFC 8098, RFC 5965).

A report body is groups of ``Name: value`` lines separated by blank lines (per-message
fields, then one group per recipient), with folded continuation lines. Real MTAs fold
badly, indent the first line or mix case, so this reader is lenient: names are
lowercased, unknown lines are kept as a continuation of the previous field.
"""

from __future__ import annotations

import re

Block = dict[str, str]
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")


def blocks(text: str) -> list[Block]:
    """Split report text into its field blocks; empty blocks are dropped."""
    out: list[Block] = []
    # The words of each field are gathered in lists and joined once a block is done:
    # adding each continuation line to a growing string copies it every time, which is
    # quadratic in the number of lines of one folded field.
    current: dict[str, list[str]] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(_joined(current))
            current, last = {}, None
            continue
        match = _FIELD.match(line.strip()) if line[0] not in " \t" or last is None else None
        if match:
            last = match.group(1).lower()
            # a repeated field keeps its first value; RFC 3464 allows each once a block
            current.setdefault(last, [match.group(2).strip()])
        elif last is not None:
            current[last].append(line.strip())
    if current:
        out.append(_joined(current))
    return out


def _joined(words: dict[str, list[str]]) -> Block:
    return {name: " ".join(w for w in parts if w) for name, parts in words.items()}


def typed_value(value: str) -> str:
    """The value of a typed field (``rfc822; a@b`` gives ``a@b``)."""
    _, sep, rest = value.partition(";")
    return (rest if sep else value).strip()
