"""``inkling instrument`` as an agent first runs it: who the message is recorded as sent
to, when, and the warnings and defects it prints on the way."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

PUBLIC = {"INKLING_BASE_URL": "https://t.help.example"}
BODY = b'<p>See <a href="https://help.example/articles/refunds">refunds</a></p>\r\n'


def _mail(
    *fields: str, content_type: str = "text/html; charset=utf-8", body: bytes = BODY
) -> bytes:
    head = "".join(f"{field}\r\n" for field in (*fields, f"Content-Type: {content_type}"))
    return head.encode() + b"\r\n" + body


def _instrument(
    data_dir: Path, raw: bytes, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return inkling(data_dir, "instrument", "-", *args, stdin=raw, env=env or PUBLIC)


def _reading(data_dir: Path, message: str) -> dict[str, Any]:
    done = inkling(data_dir, "reading", "--json", message)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _stderr(done: subprocess.CompletedProcess[bytes]) -> list[str]:
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    return done.stderr.decode().splitlines()


def test_every_recipient_in_to_cc_and_bcc_is_recorded(data_dir: Path) -> None:
    raw = _mail(
        "From: Sam <sam@help.example>",
        'To: "Ana Díaz" <ana@customer.example>, bo@customer.example',
        "Cc: Cy <cy@customer.example>, ana@customer.example",
        "Bcc: di@partner.example",
        "Message-ID: <four@help.example>",
    )
    done = _instrument(data_dir, raw)
    assert done.returncode == 0, done.stderr
    everyone = "ana@customer.example, bo@customer.example, cy@customer.example, di@partner.example"
    [registered] = [line for line in _stderr(done) if "registered" in line]
    assert registered.startswith(f"inkling: registered <four@help.example> to {everyone} as ")
    assert registered.endswith("(1 tracked link)")
    ident = registered.split(" as ")[1].split()[0]
    reading = _reading(data_dir, ident)
    assert reading["recipient"] == everyone  # each once, Bcc too, in header order
    assert reading["message_id"] == "<four@help.example>"
    assert _reading(data_dir, "four@help.example")["id"] == ident  # found without <> too


def test_a_message_without_recipients_is_registered_without_one(data_dir: Path) -> None:
    done = _instrument(data_dir, _mail("Subject: draft", "Message-ID: <draft@help.example>"))
    assert done.returncode == 0, done.stderr
    [registered] = [line for line in _stderr(done) if "registered" in line]
    assert registered.startswith("inkling: registered <draft@help.example> as ")
    assert _reading(data_dir, "<draft@help.example>")["recipient"] is None


@pytest.mark.parametrize(
    ("sent_at", "iso"),
    [
        ("2026-12-04T16:00:00+01:00", "2026-12-04T15:00:00Z"),
        ("2026-12-04T15:00:00Z", "2026-12-04T15:00:00Z"),
        ("2026-12-04T10:00:00-05:00", "2026-12-04T15:00:00Z"),
        ("1796396400", "2026-12-04T15:00:00Z"),
        ("1796396400.9", "2026-12-04T15:00:00Z"),
    ],
)
def test_sent_at_takes_an_offset_or_epoch_seconds(data_dir: Path, sent_at: str, iso: str) -> None:
    raw = _mail("To: ana@customer.example", "Message-ID: <when@help.example>")
    done = _instrument(data_dir, raw, "--sent-at", sent_at)
    assert done.returncode == 0, done.stderr
    assert _reading(data_dir, "<when@help.example>")["sent_at"] == iso


@pytest.mark.parametrize(
    ("sent_at", "says"),
    [
        ("2026-12-04T16:00:00", "must be ISO 8601 with an offset"),  # whose 16:00?
        ("yesterday", "must be ISO 8601 with an offset"),
        ("", "must be ISO 8601 with an offset"),
        ("nan", "must be ISO 8601 with an offset"),
        ("2026-13-01T00:00:00Z", "must be ISO 8601 with an offset"),
        ("-5", "must be between 1970 and 2106"),
        ("1e30", "must be between 1970 and 2106"),
        ("\x1b[2J\x1b]0;owned\x07", "must be ISO 8601 with an offset"),
    ],
)
def test_a_bad_sent_at_is_one_line_and_registers_nothing(
    data_dir: Path, sent_at: str, says: str
) -> None:
    raw = _mail("To: ana@customer.example", "Message-ID: <bad-time@help.example>")
    done = _instrument(data_dir, raw, "--sent-at", sent_at)
    assert done.returncode == 2
    [line] = _stderr(done)
    assert line.startswith(f"inkling: --sent-at {says}")
    assert "\x1b" not in line and "\x07" not in line
    assert done.stdout == b""
    missing = inkling(data_dir, "reading", "<bad-time@help.example>")
    assert missing.returncode == 1 and b"no message" in missing.stderr


def test_the_escapes_of_a_bad_sent_at_are_shown_as_text(data_dir: Path) -> None:
    done = _instrument(data_dir, _mail("To: a@b.example"), "--sent-at", "\x1b[2J\u202e")
    assert "'\\x1b[2J\\u202e'" in done.stderr.decode()


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "http://127.9.9.9"],
)
def test_a_loopback_base_url_is_warned_about(data_dir: Path, base_url: str) -> None:
    done = _instrument(data_dir, _mail("To: a@b.example"), "--base-url", base_url)
    _assert_loopback_warning(done)


@pytest.mark.skipif("INKLING_BASE_URL" in os.environ, reason="the environment sets a base URL")
def test_the_default_base_url_is_warned_about(data_dir: Path) -> None:
    _assert_loopback_warning(inkling(data_dir, "instrument", "-", stdin=_mail("To: a@b.example")))


def _assert_loopback_warning(done: subprocess.CompletedProcess[bytes]) -> None:
    assert done.returncode == 0, done.stderr
    [warning] = [line for line in _stderr(done) if "warning" in line]
    assert warning.startswith("inkling: warning: tracked links point at http")
    assert "customers cannot reach" in warning and "INKLING_BASE_URL" in warning
    assert b"/t/c/" in done.stdout


def test_a_public_base_url_gets_no_warning(data_dir: Path) -> None:
    done = _instrument(data_dir, _mail("To: a@b.example"), "--base-url", "https://t.help.example")
    assert done.returncode == 0, done.stderr
    assert not [line for line in _stderr(done) if "warning" in line]
    assert b"https://t.help.example/t/c/" in done.stdout


@pytest.mark.parametrize(
    ("content_type", "body", "defect"),
    [
        ("multipart/alternative", b"--x\r\n\r\n<p>a</p>\r\n--x--\r\n", "has no boundary"),
        (
            'multipart/mixed; boundary="zz"',
            b"--yy\r\nContent-Type: text/html\r\n\r\n" + BODY + b"--yy--\r\n",
            "no part of a multipart is delimited by its boundary",
        ),
        ('text/html; charset="x-\x1b[31m"', BODY, "charset 'x-\\x1b[31m' is not a text encoding"),
    ],
)
def test_malformed_mail_is_registered_with_a_defect_line(
    data_dir: Path, content_type: str, body: bytes, defect: str
) -> None:
    raw = _mail(
        "To: a@b.example", "Message-ID: <odd@help.example>", content_type=content_type, body=body
    )
    done = _instrument(data_dir, raw)
    assert done.returncode == 0, done.stderr
    lines = _stderr(done)
    defects = [line for line in lines if line.startswith("inkling: defect: ")]
    assert defects and defect in defects[0], lines
    assert all("\x1b" not in line for line in lines)
    assert lines[-1].startswith("inkling: registered <odd@help.example>")
    assert done.stdout.startswith(b"To: a@b.example\r\n")  # the message is still written out


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("Message-ID: <\x1b[31mred\x07@help.example>", "Message-ID"),
        ("Subject: =?utf-8?q?=1B]8;;http://x=1B\\?=", "Subject"),
    ],
)
def test_a_field_with_control_characters_is_refused_in_one_line(
    data_dir: Path, field: str, names: str
) -> None:
    done = _instrument(data_dir, _mail("To: a@b.example", field))
    assert done.returncode == 1
    [line] = _stderr(done)
    assert line.startswith(f"inkling: cannot instrument {names}: holds U+001B")
    assert "\x1b" not in line and done.stdout == b""
