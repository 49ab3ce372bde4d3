"""The ``inkling`` command as a user runs it: instrument, serve, click, read the result."""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import FIXTURES
from tests.e2e.server import INKLING, ServerProcess

pytestmark = pytest.mark.slow


def inkling(
    data_dir: Path,
    *args: str,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``inkling ARGS`` run as a user runs it, on ``data_dir`` (INKLING_DATA_DIR), in the
    directory above it (or ``cwd``), where ``./inkling.toml`` would be."""
    environment = {**os.environ, "INKLING_DATA_DIR": str(data_dir), **(env or {})}
    return subprocess.run(
        [str(INKLING), *args],
        input=stdin,
        capture_output=True,
        env=environment,
        cwd=cwd or data_dir.parent,
        timeout=60,
    )


def test_instrument_serve_click_and_read(data_dir: Path) -> None:
    server = ServerProcess(data_dir)
    try:
        eml = FIXTURES / "eml" / "alt_qp_utf8.eml"
        done = inkling(
            data_dir,
            "instrument",
            str(eml),
            "--ticket",
            "48213",
            "--workflow",
            "support",
            env={"INKLING_BASE_URL": server.url},
        )
        assert done.returncode == 0, done.stderr
        assert b"registered" in done.stderr
        message = email.message_from_bytes(done.stdout)
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        payload = html.get_payload(decode=True)
        assert isinstance(payload, bytes)  # a leaf part's decoded body
        body = payload.decode()
        click = re.search(re.escape(server.url) + r"/t/c/[\w-]+", body)
        pixel = re.search(re.escape(server.url) + r"/t/o/[0-9a-f]+\.gif", body)
        assert click and pixel

        agent = "[b]x[/b]"  # markup in a user agent is shown as it is, never interpreted
        assert httpx.get(pixel.group(0), headers={"User-Agent": agent}).status_code == 200
        response = httpx.get(click.group(0))
        assert response.status_code == 302
        assert response.headers["location"].startswith("https://docs.northwind.example/")

        message_id = message["Message-ID"]
        server.wait_loaded()
        reading = inkling(data_dir, "reading", message_id, "--json")
        assert reading.returncode == 0, reading.stderr
        result = json.loads(reading.stdout)
        assert result["message_id"] == message_id
        assert result["ticket"] == "48213"
        assert result["opens"] == {"total": 1, "human": 0, "machine": 0, "unknown": 1}
        assert result["clicks"]["total"] == 1
        assert [e["kind"] for e in result["events"]] == ["open", "click"]
        assert result["events"][1]["url"] == response.headers["location"]
        assert "sentence" in result and "state" in result

        limited = json.loads(
            inkling(data_dir, "reading", message_id, "--json", "--limit", "1").stdout
        )
        assert len(limited["events"]) == 1 and limited["opens"]["total"] == 1

        table = inkling(data_dir, "reading", message_id.strip("<>"))
        assert table.returncode == 0 and b"click" in table.stdout
        assert agent.encode() in table.stdout
    finally:
        server.stop()


def test_instrument_reads_stdin(data_dir: Path) -> None:
    raw = b"Subject: hi\r\nMessage-ID: <stdin@x>\r\nContent-Type: text/html\r\n\r\n<a href='https://a.example/'>a</a>"
    done = inkling(data_dir, "instrument", "-", stdin=raw)
    assert done.returncode == 0, done.stderr
    assert b"/t/c/" in done.stdout and b"/t/o/" in done.stdout


def test_same_message_twice_is_refused_clearly(data_dir: Path) -> None:
    eml = str(FIXTURES / "eml" / "single_part_html.eml")
    assert inkling(data_dir, "instrument", eml).returncode == 0
    again = inkling(data_dir, "instrument", eml)
    assert again.returncode == 1
    assert b"already registered" in again.stderr and b"Traceback" not in again.stderr
    assert again.stdout == b""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["instrument", str(FIXTURES / "eml" / "not_mail.eml")], b"not a MIME message"),
        (["instrument", "/nonexistent.eml"], b"cannot read /nonexistent.eml"),
        (["reading", "<nobody@nowhere>"], b"no message"),
    ],
)
def test_bad_input_is_one_clear_line(data_dir: Path, args: list[str], says: bytes) -> None:
    done = inkling(data_dir, *args)
    assert done.returncode == 1
    assert says in done.stderr and b"Traceback" not in done.stderr
    assert done.stderr.count(b"\n") == 1


def test_bad_setting_stops_start_up_with_one_line(data_dir: Path) -> None:
    done = inkling(data_dir, "serve", env={"INKLING_BASE_URL": "not a url"})
    assert done.returncode == 2
    assert done.stderr.startswith(b"inkling: bad setting INKLING_BASE_URL")
    assert done.stderr.count(b"\n") == 1


def test_keys_rotate_keeps_old_links_working(data_dir: Path) -> None:
    old = inkling(data_dir, "instrument", str(FIXTURES / "eml" / "single_part_html.eml"))
    old_click = re.search(rb"/t/c/[\w-]+", old.stdout.replace(b"=\r\n", b""))
    assert old_click
    rotated = inkling(data_dir, "keys", "rotate")
    assert rotated.returncode == 0 and b"key 2 is now current" in rotated.stderr
    server = ServerProcess(data_dir)
    try:
        assert httpx.get(server.url + old_click.group(0).decode()).status_code == 302
        new = inkling(
            data_dir,
            "instrument",
            str(FIXTURES / "eml" / "html_base64_japanese.eml"),
            env={"INKLING_BASE_URL": server.url},
        )
        assert new.returncode == 0
        inkling(data_dir, "keys", "rotate")  # a key the running server has not seen yet
        time.sleep(1.1)  # the server looks for new keys at most once a second
        newest = inkling(
            data_dir,
            "instrument",
            str(FIXTURES / "eml" / "thunderbird_8bit.eml"),
            env={"INKLING_BASE_URL": server.url},
        )
        click = re.search(rb"/t/c/[\w-]+", newest.stdout)
        assert click
        assert httpx.get(server.url + click.group(0).decode()).status_code == 302
    finally:
        server.stop()
