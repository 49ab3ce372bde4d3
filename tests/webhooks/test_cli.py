"""``inkling webhooks`` as a user runs it, and ``inkling serve`` delivering: a click on
an instrumented message reaches a real receiver, signed with the secret ``add`` printed."""

from __future__ import annotations

import email
import json
import re
import time
from pathlib import Path

import httpx
from standardwebhooks import Webhook

from tests.conftest import FIXTURES
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import inkling
from tests.webhooks.receiver import Receiver, dead_port


def _add(data_dir: Path, url: str, events: str) -> tuple[str, str]:
    done = inkling(data_dir, "webhooks", "add", url, "--events", events)
    assert done.returncode == 0, done.stderr
    found = dict(line.split(": ", 1) for line in done.stdout.decode().splitlines())
    assert found["secret"].startswith("whsec_")
    return found["id"], found["secret"]


def test_a_click_is_delivered_by_serve_signed_with_the_printed_secret(
    data_dir: Path, receiver: Receiver
) -> None:
    ident, secret = _add(data_dir, receiver.url, "message.clicked")
    server = ServerProcess(data_dir)
    try:
        eml = FIXTURES / "eml" / "alt_qp_utf8.eml"
        done = inkling(
            data_dir, "instrument", str(eml), "--ticket", "48213",
            env={"INKLING_BASE_URL": server.url},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        message = email.message_from_bytes(done.stdout)
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        body = html.get_payload(decode=True)
        assert isinstance(body, bytes)
        click = re.search(re.escape(server.url) + r"/t/c/[\w-]+", body.decode())
        assert click
        assert httpx.get(click.group(0)).status_code == 302
        (got,) = receiver.wait_for(1, timeout=15)
        listed = _listed_when_settled(data_dir)
        assert server.terminate() in (0, -15)
    finally:
        server.stop()
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "message.clicked"
    assert payload["data"]["ticket"] == "48213"
    assert payload["data"]["link"]["url"].startswith("https://docs.northwind.example/")
    assert "127.0.0.1" not in got.body.decode()  # the client's address is in no payload

    assert f"{ident}  {receiver.url}  events=message.clicked  pending=0  failed=0" in listed


def _listed_when_settled(data_dir: Path, timeout: float = 10.0) -> str:
    """``inkling webhooks list`` once nothing is pending (the 2xx is recorded just after
    the receiver has the request)."""
    deadline = time.monotonic() + timeout
    while True:
        listed = inkling(data_dir, "webhooks", "list")
        assert listed.returncode == 0, listed.stderr
        if "pending=0" in listed.stdout.decode() or time.monotonic() > deadline:
            return listed.stdout.decode()
        time.sleep(0.1)


def test_test_list_and_remove(data_dir: Path, receiver: Receiver) -> None:
    receiver.behaviour.answer = b"ok \x1b]0;owned\x07"
    receiver.behaviour.statuses = [200]
    ident, secret = _add(data_dir, receiver.url, "*")
    tested = inkling(data_dir, "webhooks", "test", ident)
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.decode() == "HTTP 200: ok \\x1b]0;owned\\x07\n"  # escaped, not obeyed
    (got,) = receiver.wait_for(1)
    assert json.loads(got.body)["type"] == "webhook.test"
    Webhook(secret).verify(got.body, got.headers)

    dead, _ = _add(data_dir, f"http://127.0.0.1:{dead_port()}/", "message.replied")
    refused = inkling(data_dir, "webhooks", "test", dead)
    assert refused.returncode == 1
    assert b"ConnectError" in refused.stdout and b"did not accept" in refused.stderr

    assert inkling(data_dir, "webhooks", "remove", ident).returncode == 0
    listed = inkling(data_dir, "webhooks", "list").stdout.decode()
    assert ident not in listed and dead in listed


def test_bad_input_is_one_line_naming_it(data_dir: Path) -> None:
    typo = inkling(data_dir, "webhooks", "add", "https://x.example/", "--events", "message.clickd")
    assert typo.returncode == 1
    assert typo.stderr.decode().startswith("inkling: --events: unknown event type 'message.clickd'")
    assert len(typo.stderr.splitlines()) == 1
    scheme = inkling(data_dir, "webhooks", "add", "file:///etc/passwd")
    assert scheme.returncode == 1 and b"http:// or https:// URL" in scheme.stderr
    assert not (data_dir / "inkling.db").exists()  # refused before the database is opened
