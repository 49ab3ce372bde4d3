"""``printable`` and ``dumps``: what stands between a value from outside and the terminal."""

from __future__ import annotations

import json
import time
import unicodedata

import pytest

from inkling.cli.output import dumps, printable

#: Every character a terminal obeys or that reorders or hides text: C0, DEL, C1, and the
#: format characters of the bidirectional algorithm and their zero-width kin.
OBEYED = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
INVISIBLE = [
    "\u061c",
    "\u180e",
    *map(chr, range(0x200B, 0x2010)),
    *map(chr, range(0x2028, 0x202F)),
    *map(chr, range(0x2060, 0x206A)),
    "\ufeff",
    *map(chr, range(0xFFF9, 0xFFFC)),
    *map(chr, range(0xE0000, 0xE0080)),  # tags: invisible ASCII
]


@pytest.mark.parametrize("char", OBEYED + INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_and_invisible_character_is_written_as_an_escape(char: str) -> None:
    shown = printable(f"a{char}b")
    assert shown.isascii() and shown.isprintable()
    code = ord(char)
    expected = (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )
    assert shown == f"a{expected}b"


@pytest.mark.parametrize("char", OBEYED + INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_json_escapes_them_too_and_keeps_the_value(char: str) -> None:
    text = dumps({"user_agent": f"a{char}b"})
    assert text.isascii() and text.isprintable()
    assert json.loads(text) == {"user_agent": f"a{char}b"}


def test_the_terminal_attacks_are_shown_not_obeyed() -> None:
    hyperlink = "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\"
    assert printable(hyperlink) == "\\x1b]8;;http://evil.example\\x1b\\click\\x1b]8;;\\x1b\\"
    assert printable("\u009b2J") == "\\x9b2J"
    assert dumps("\u009b2J") == '"\\u009b2J"'
    assert printable("invoice\u202etxt.exe") == "invoice\\u202etxt.exe"
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "rm -rf")  # tag characters
    assert printable(f"ok{hidden}") == "ok" + "".join(
        f"\\U{0xE0000 + ord(c):08x}" for c in "rm -rf"
    )
    assert dumps(f"ok{hidden}").startswith('"ok\\udb40\\udc72')  # as JSON writes it


def test_readable_text_is_left_as_it_is() -> None:
    for text in ("Müller", "日本語のメール", "Ελληνικά", "emoji 📬", "tab-free [b]x[/b] <a>"):
        assert printable(text) == text
        assert dumps(text) == json.dumps(text, ensure_ascii=False)
    # every other printable character of the Basic Multilingual Plane passes unchanged
    kept = [
        chr(c)
        for c in range(0xA0, 0x10000)
        if chr(c).isprintable() and unicodedata.category(chr(c)) != "Cs"
    ]
    assert printable("".join(kept)) == "".join(kept)


def test_escaping_is_linear_in_the_length() -> None:
    def seconds(n: int) -> float:
        text = "\x1b[31m\u202e" * n
        start = time.perf_counter()
        printable(text)
        dumps(text)
        return time.perf_counter() - start

    seconds(1000)  # warm up
    small, large = seconds(20_000), seconds(200_000)
    assert large < small * 30  # ten times the input, at most ~ten times the time
