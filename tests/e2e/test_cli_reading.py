"""``inkling reading`` in an 80-column terminal, for a message whose Message-ID and hits
carry terminal escapes: the table and the JSON show them as text, never act on them.

The message goes out through ``inkling serve --relay-port`` (``inkling instrument``
refuses a Message-ID with control characters: see test_cli_instrument.py; the relay
passes such mail on as it came), and its hits come to the running server over raw
sockets, as a hostile or broken client sends them.
"""

from __future__ import annotations

import asyncio
import email
import json
import re
import smtplib
import socket
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from inkling.cli.output import printable
from inkling.mail.listener import Listener
from tests.e2e.server import ServerProcess, free_port
from tests.e2e.test_cli import inkling
from tests.relay.conftest import Sink, SinkHandler, SinkSMTP

pytestmark = pytest.mark.slow

COLUMNS = {"COLUMNS": "80"}
#: ESC (a colour), an OSC title ended by BEL, an OSC 8 hyperlink, a bidi override, a C1 CSI.
HOSTILE_ID = "<\x1b[31mred\x1b]0;owned\x07\x1b]8;;http://x\x1b\\\u202eevil\u009b2J@help.example>"
#: A user agent as bytes on the wire: HTTP carries no ESC (the server refuses the request)
#: but passes bytes over 0x7f, which arrive as Latin-1: 0x9b is U+009B, CSI.
HOSTILE_UA = b"Mozilla/5.0 \x9b31m\x9b2J (compatible; EvilMail)"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/153.0.0.0 Safari/537.36"
)
ARTICLE = "https://help.example/articles/refunds-and-chargebacks-for-annual-plans"
#: A link whose target carries an OSC 8 hyperlink (the relay writes it percent-encoded).
TRAPPED = "https://help.example/t?\x1b]8;;http://evil.example\x1b\\here"
#: What a terminal would obey.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def sink() -> Iterator[Sink]:
    """The upstream mail server the relay hands its copies to."""
    handler = SinkHandler()

    def factory(loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        return SinkSMTP(handler, loop=loop, hostname="sink.test", enable_SMTPUTF8=True)

    listener = Listener(factory, "127.0.0.1", 0, name="sink")
    listener.start()
    yield Sink(handler, listener.port)
    listener.stop()


def _send_through_relay(relay_port: int, sink: Sink) -> email.message.Message:
    raw = (
        "From: Sam <sam@help.example>\r\nTo: ana@customer.example\r\n"
        f"Subject: Your refund\r\nMessage-ID: {HOSTILE_ID}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        f'<p>See <a href="{ARTICLE}">the article</a> or <a href="{TRAPPED}">this</a>.</p>\r\n'
    ).encode()
    with smtplib.SMTP("127.0.0.1", relay_port, timeout=30) as smtp:
        smtp.sendmail("sam@help.example", ["ana@customer.example"], raw, ["SMTPUTF8"])
    [received] = sink.wait_for(1)
    return email.message_from_bytes(received.content)


def _links(copy: email.message.Message, base: str) -> tuple[str, str, str, str]:
    """The pixel, the two tracked links and the hidden honeypot link of a copy."""
    payload = copy.get_payload(decode=True)
    assert isinstance(payload, bytes)  # a single-part message's decoded body
    body = payload.decode()
    pixel = re.search(re.escape(base) + r"/t/o/[0-9a-f]+\.gif", body)
    clicks = re.findall(re.escape(base) + r"/t/c/[\w-]+", body)
    honeypot = re.search(r'<a href="([^"]+)"[^>]*data-inkling="honeypot"', body)
    assert pixel and len(clicks) == 2 and honeypot, body
    return pixel.group(0), clicks[0], clicks[1], honeypot.group(1)


def _get_raw(url: str, user_agent: bytes) -> bytes:
    """GET ``url`` with a User-Agent sent as the bytes given (httpx would refuse them)."""
    parts = httpx.URL(url)
    assert parts.port is not None
    with socket.create_connection((parts.host, parts.port), timeout=10) as sock:
        sock.sendall(
            b"GET " + parts.raw_path + b" HTTP/1.1\r\nHost: " + parts.host.encode()
            + b"\r\nUser-Agent: " + user_agent + b"\r\nConnection: close\r\n\r\n"
        )  # fmt: skip
        return sock.recv(100).split(b"\r\n")[0]


def _columns(line: str) -> int:
    """How many terminal columns ``line`` takes."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.fixture
def hostile(data_dir: Path, sink: Sink) -> Iterator[str]:
    """A message with HOSTILE_ID, opened by HOSTILE_UA, then clicked by a browser whose
    click the honeypot later shows to be a scanner's. Yields its Inkling id."""
    relay_port = free_port()
    server = ServerProcess(
        data_dir, args=("--relay-port", str(relay_port)), env={"INKLING_RELAY_UPSTREAM": sink.url}
    )
    try:
        pixel, click, trapped, honeypot = _links(_send_through_relay(relay_port, sink), server.url)
        assert _get_raw(pixel, HOSTILE_UA) == b"HTTP/1.1 200 OK"
        assert httpx.get(click, headers={"User-Agent": CHROME}).status_code == 302
        assert httpx.get(trapped, headers={"User-Agent": CHROME}).status_code == 302
        server.wait_loaded()  # judged now: the click a person's
        assert httpx.get(honeypot, headers={"User-Agent": CHROME}).status_code in (200, 302)
        server.wait_loaded()  # and judged again: the click was the scanner's too
        found = inkling(data_dir, "reading", "--json", HOSTILE_ID)
        assert found.returncode == 0, found.stderr
        yield str(json.loads(found.stdout)["id"])
    finally:
        server.stop()


def test_the_table_shows_every_outside_value_as_text(data_dir: Path, hostile: str) -> None:
    done = inkling(data_dir, "reading", hostile, env=COLUMNS)
    assert done.returncode == 0, done.stderr
    table = done.stdout.decode()
    assert not RAW.search(table), RAW.findall(table)
    lines = table.splitlines()
    # the title, folded at 80 columns: the Message-ID (escaped) and Inkling's id
    to = next(i for i, line in enumerate(lines) if line.startswith("to "))
    title = " ".join(lines[:to])
    assert title == f"{printable(HOSTILE_ID)}  (Inkling id {hostile})".replace("  (", " (")
    assert "\\x1b[31mred\\x1b]0;owned\\x07\\x1b]8;;http://x\\x1b\\\\u202eevil\\x9b2J" in title
    assert lines[to].startswith("to ana@customer.example, sent ") and lines[to].endswith(" UTC")
    assert "when (UTC)" in table
    too_wide = [line for line in lines if _columns(line) > 80]
    assert not too_wide, too_wide
    # the client's escapes, as text, on the open's line or under it
    assert "Mozilla/5.0 \\x9b31m\\x9b2J (compatible; EvilMail)" in table
    # the link's OSC 8, as the relay wrote it (percent-encoded), never as an escape
    assert "  link:      https://help.example/t?%1B]8;;http://evil.example%1B\\here" in lines


def test_each_event_has_its_line_its_marked_reasons_and_its_history(
    data_dir: Path, hostile: str
) -> None:
    table = inkling(data_dir, "reading", hostile, env=COLUMNS).stdout.decode()
    events = json.loads(inkling(data_dir, "reading", hostile, "--json").stdout)["events"]
    lines = table.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("when (UTC)")))
    event = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  (open|click) +(human|machine|unknown) ")
    starts = [i for i in range(header + 1, len(lines)) if event.match(lines[i])]
    assert len(starts) == len(events) == 4, table
    for start, end, expected in zip(starts, [*starts[1:], len(lines)], events, strict=True):
        found = event.match(lines[start])
        assert found is not None
        when, kind, verdict = found.groups()
        assert (f"{when.replace(' ', 'T')}Z", kind, verdict) == (
            expected["ts"],
            expected["kind"],
            expected["verdict"],
        )
        below = lines[start + 1 : end]
        assert all(line.startswith("  ") for line in below), below
        marks = [line.split(":")[0].strip() for line in below if not line.startswith("    ")]
        pointing = [w["points_to"] for w in expected["why"]]
        assert marks.count("▲ machine") == pointing.count("machine"), below
        assert marks.count("▼ person") == pointing.count("person"), below
        changes = [line for line in below if line.startswith("  changed:")]
        assert [_change(line) for line in changes] == [
            (h["from"]["verdict"], h["from"]["agent"] or "-", h["to"]["verdict"], h["to"]["agent"])
            for h in expected["history"]
        ]
    assert sum("▲ machine" in line for line in lines) >= 3  # the honeypot and its neighbours
    assert any("▼ person" in line for line in lines)  # a browser's user agent, for a person
    assert sum(line.startswith("  changed:") for line in lines) >= 1  # the click, revised
    # the article's long link is cut on the event's line, and shown whole under it
    assert any(line.startswith("  link:      https://help.example/articles/") for line in lines)
    assert "hidden link (honeypot)" in table


def _change(line: str) -> tuple[str, str, str, str]:
    """``  changed:   unknown (browser) → machine (scanner) at 2026-12-01 23:39:47``."""
    found = re.fullmatch(
        r"  changed: +(\w+) \(([^)]*)\) → (\w+) \(([^)]*)\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line
    )
    assert found, line
    before, before_agent, after, after_agent = found.groups()
    return before, before_agent, after, after_agent


def test_json_escapes_c1_and_bidi_and_still_holds_the_values(data_dir: Path, hostile: str) -> None:
    done = inkling(data_dir, "reading", hostile, "--json")
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert not RAW.search(text.replace("\n", "")), RAW.findall(text)
    assert "\\u009b" in text and "\\u202e" in text and "\\u001b" in text
    result: dict[str, Any] = json.loads(text)
    assert result["message_id"] == HOSTILE_ID
    agents = [e["user_agent"] for e in result["events"] if e["kind"] == "open"]
    assert agents == [HOSTILE_UA.decode("latin-1")]
    click = next(e for e in result["events"] if e["kind"] == "click" and not e["honeypot"])
    trapped = next(e for e in result["events"] if e["link"] == 1)
    assert trapped["url"] == "https://help.example/t?%1B]8;;http://evil.example%1B\\here"
    [change] = click["history"]  # judged once the click came, again once the trap was hit
    assert change["from"]["verdict"] != "machine" and change["to"]["verdict"] == "machine"
    assert change["from"]["agent"] == "browser" and click["agent"] == change["to"]["agent"]


def test_a_hostile_message_id_on_the_command_line_is_echoed_escaped(data_dir: Path) -> None:
    done = inkling(data_dir, "reading", HOSTILE_ID)
    assert done.returncode == 1
    line = done.stderr.decode()
    assert line.count("\n") == 1 and not RAW.search(line.rstrip("\n"))
    assert line.startswith("inkling: no message ")
    assert "\\x1b[31mred\\x1b]0;owned\\x07" in line and "\\u202eevil\\x9b2J" in line
