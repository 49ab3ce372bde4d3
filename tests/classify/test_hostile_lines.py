"""Hostile lines for ``inkling classify --jsonl``: each gets the documented
``{"line": N, "error": ...}`` object in its place (never a traceback), the other lines are
still judged, in order, and everything written out is valid UTF-8."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inkling.classify import Classifier
from inkling.classify.lines import classify_lines, read_lines
from tests.e2e.test_cli import inkling

SENT = 1_796_000_000
MPP = {"message": "m1", "kind": "open", "ts": SENT + 2, "sent_at": SENT}
MPP |= {"ip": "172.225.6.9", "ua": "Mozilla/5.0"}
PERSON = {"message": "m2", "kind": "click", "ts": SENT + 400, "sent_at": SENT}
PERSON |= {"ip": "81.2.69.1", "link": 0, "links_total": 1}
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0"
PERSON |= {"ua": FIREFOX}


def _with(**changes: object) -> bytes:
    return json.dumps({**PERSON, **changes}).encode()


def _raw(hit: dict[str, object], field: str, literal: str) -> bytes:
    """``hit`` as JSON with ``field``'s value written as the ``literal`` JSON text."""
    return json.dumps({**hit, field: "@@"}).replace('"@@"', literal).encode()


#: (a line, and what must come of it: a verdict for that message, or a part of the error).
HOSTILE: list[tuple[bytes, str]] = [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"message": ' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
    (_raw(PERSON, "ts", "1e400"), "'ts' must be a time between the years 1 and 9999"),
    (_raw(PERSON, "ts", "-1e400"), "'ts' must be a time between"),
    (_raw(PERSON, "ts", "NaN"), "NaN is not a JSON number"),
    (_raw(PERSON, "sent_at", "Infinity"), "Infinity is not a JSON number"),
    (_raw(PERSON, "ts", "-Infinity"), "-Infinity is not a JSON number"),
    (_raw(PERSON, "ts", str(10**400)), "'ts' must be a time between"),
    (_raw(PERSON, "ts", "9" * 5000), "a number of 5000 digits"),
    (_with(ts="9999-12-31T23:59:59-01:00"), "'ts' must be a time between"),
    (_with(message="\ud800"), "'message' holds half of a UTF-16 surrogate pair"),
    (_with(message="m\udc00x"), "'message' holds half"),
    (_with(ua="Firefox \udfff"), "'ua' holds half"),
    (_with(headers={"purpose\ud800": "prefetch"}), "'headers' holds half"),
    (_with(message="m\x1b[2J"), "'message' must be a non-empty string with no control"),
    (_with(link=-1), "'link' must be a whole number >= 0"),
    (_with(links_total=-5), "'links_total' must be a whole number >= 0"),
    (_with(ts=True), "'ts' must be seconds since 1970"),
    (_with(sent_at=False), "'sent_at' must be seconds since 1970"),
    (_with(link=True), "'link' must be a whole number >= 0"),
    (_with(honeypot=1), "'honeypot' must be true or false"),
    (_with(headers={"purpose": 1}), "'headers' values must be strings"),
    (_with(headers={"purpose": None}), "'headers' values must be strings"),
    (_with(headers={"purpose": ["prefetch"]}), "'headers' values must be strings"),
    (_with(headers=[]), "'headers' must be an object"),
    (_with(headers="purpose: prefetch"), "'headers' must be an object"),
    (json.dumps([PERSON]).encode(), "a hit must be a JSON object"),
    (b'"a hit"', "a hit must be a JSON object"),
    (b"null", "a hit must be a JSON object"),
    (b"{not json", "not JSON"),
    (_with(ua="x" * 3_000_000), "m2"),  # megabytes of user agent: judged, not refused
    (_with(message="m" * 2_000_000), "m" * 2_000_000),
]


def _file(newline: bytes = b"\n") -> tuple[bytes, list[tuple[int, str]]]:
    """A file of hits with the hostile lines between good ones (and a blank line), a BOM
    at its start; and the output each non-blank line must get, by its line number."""
    lines: list[bytes] = [json.dumps(MPP).encode(), b""]
    for hostile, _ in HOSTILE:
        lines += [hostile, json.dumps(PERSON).encode()]
    data = b"\xef\xbb\xbf" + newline.join(lines) + newline
    wanted = [(1, "m1")] + [
        (number, want)
        for index, (_, want) in enumerate(HOSTILE)
        for number, want in ((3 + 2 * index, want), (4 + 2 * index, "m2"))
    ]
    return data, wanted


def _check(output: list[dict[str, object]], wanted: list[tuple[int, str]]) -> None:
    assert len(output) == len(wanted)
    for result, (number, want) in zip(output, wanted, strict=True):
        if "error" in result:
            assert result["line"] == number and want in str(result["error"]), (result, want)
        else:
            assert result["message"] == want and result["verdict"], (number, want)
    people = [r for r in output if r.get("message") == "m2" and "verdict" in r]
    assert {r["verdict"] for r in people} == {"human"}  # the good lines still judged
    assert output[0]["verdict"] == "machine"  # the line after the BOM


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_every_hostile_line_gets_an_error_object_in_its_place(newline: bytes) -> None:
    data, wanted = _file(newline)
    output = list(classify_lines(read_lines(data), Classifier()))
    _check(output, wanted)
    for result in output:  # all of it can be written back out
        json.dumps(result, ensure_ascii=False).encode("utf-8")


def test_read_lines_splits_at_line_feeds_only() -> None:
    """A U+2028, NEL or form feed inside a JSON string is text, not a line end (Python's
    ``str.splitlines`` would cut the line there); a byte that is not UTF-8 is reported on
    its own line, the lines around it untouched."""
    inside = json.dumps({**PERSON, "ua": FIREFOX + "\u2028\x85\x0c"}, ensure_ascii=False)
    data = b"\n".join([inside.encode(), b'{"message": "m\xff"}', json.dumps(MPP).encode()])
    output = list(classify_lines(read_lines(data), Classifier()))
    assert [r.get("message") for r in output] == ["m2", None, "m1"]
    assert output[1] == {"line": 2, "error": "not UTF-8: byte 0xFF"}


@pytest.mark.slow
def test_the_command_reports_hostile_lines_and_judges_the_rest(data_dir: Path) -> None:
    data, wanted = _file(b"\r\n")
    hits = data_dir.parent / "hostile.jsonl"
    hits.write_bytes(data)
    done = inkling(data_dir, "classify", "--jsonl", str(hits))
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert f"{len(HOSTILE) - 2} line(s) were not hits".encode() in done.stderr
    output = [json.loads(line) for line in done.stdout.decode("utf-8").split("\n") if line]
    _check(output, wanted)


@pytest.mark.slow
def test_the_command_keeps_a_line_with_a_line_separator_in_a_string(data_dir: Path) -> None:
    inside = json.dumps({**PERSON, "ua": FIREFOX + "\u2028"}, ensure_ascii=False)
    hits = data_dir.parent / "separator.jsonl"
    hits.write_bytes(inside.encode() + b"\n" + b'{"message": "m\xff"}\n')
    done = inkling(data_dir, "classify", "--jsonl", str(hits))
    output = [json.loads(line) for line in done.stdout.decode("utf-8").split("\n") if line]
    assert [r.get("message") for r in output] == ["m2", None]
    assert output[1] == {"line": 2, "error": "not UTF-8: byte 0xFF"}
