"""``inkling serve --relay-port``: swaks sends through the relay of a real server process."""

from __future__ import annotations

import email
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, free_port
from tests.e2e.test_cli import inkling
from tests.relay.conftest import Sink

pytestmark = pytest.mark.slow

SWAKS = shutil.which("swaks")


@pytest.mark.skipif(SWAKS is None, reason="swaks is not installed (apt-get install swaks)")
def test_serve_runs_the_relay_beside_the_tracker(data_dir: Path, sink: Sink) -> None:
    relay_port = free_port()
    server = ServerProcess(
        data_dir,
        args=("--relay-port", str(relay_port)),
        env={"INKLING_RELAY_UPSTREAM": sink.url},
    )
    try:
        sent = subprocess.run(
            [
                str(SWAKS),
                "--server", f"127.0.0.1:{relay_port}",
                "--from", "support@acme.example",
                "--to", "ann@customer.example",
                "--header", "Subject: Your refund",
                "--header", "Message-Id: <swaks-1@acme.example>",
                "--header", "X-Inkling-Ticket: 4711",
                "--add-header", "Content-Type: text/html; charset=utf-8",
                "--body", '<p>See <a href="https://help.acme.example/refunds">the guide</a></p>',
            ],
            capture_output=True,
            timeout=30,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stdout.decode() + sent.stderr.decode()
        [received] = sink.wait_for(1)
        assert received.rcpt_tos == ["ann@customer.example"]
        copy = email.message_from_bytes(received.content)
        assert "X-Inkling-Ticket" not in copy
        body = copy.get_payload(decode=True)
        assert isinstance(body, bytes)  # a single-part message's decoded body
        assert f"{server.url}/t/c/" in body.decode()

        assert copy["Message-ID"] == "<swaks-1@acme.example>", copy.items()
        reading = inkling(data_dir, "reading", "<swaks-1@acme.example>", "--json")
        assert reading.returncode == 0, reading.stderr
        result = json.loads(reading.stdout)
        assert (result["ticket"], result["recipient"]) == ("4711", "ann@customer.example")
    finally:
        assert server.terminate() in (0, -15)


def test_relay_port_without_an_upstream_is_one_clear_line(data_dir: Path) -> None:
    done = inkling(data_dir, "serve", "--relay-port", "0")
    assert done.returncode == 2
    assert done.stderr.startswith(b"inkling: --relay-port needs INKLING_RELAY_UPSTREAM")
    assert done.stderr.count(b"\n") == 1
