"""Live hits through ``inkling serve`` get verdicts at once, and later hits revise them."""

from __future__ import annotations

import email
import json
import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import FIXTURES
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/153.0.0.0 Safari/537.36"
)


def test_live_verdicts_and_a_revision_by_the_honeypot(data_dir: Path) -> None:
    server = ServerProcess(data_dir)
    try:
        done = inkling(
            data_dir,
            "instrument",
            str(FIXTURES / "eml" / "alt_qp_utf8.eml"),
            env={"INKLING_BASE_URL": server.url},
        )
        assert done.returncode == 0, done.stderr
        message = email.message_from_bytes(done.stdout)
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        payload = html.get_payload(decode=True)
        assert isinstance(payload, bytes)  # a leaf part's decoded body
        body = payload.decode()
        pixel = re.search(re.escape(server.url) + r"/t/o/[0-9a-f]+\.gif", body)
        honeypot = re.search(r'<a href="([^"]+)"[^>]*data-inkling="honeypot"', body)
        first_link = re.search(re.escape(server.url) + r"/t/c/[\w-]+", body)
        assert pixel and honeypot and first_link

        with httpx.Client() as client:
            client.get(pixel.group(0), headers={"User-Agent": "Mozilla/5.0"})
            client.get(pixel.group(0), headers={"User-Agent": OUTLOOK})
            client.get(first_link.group(0), headers={"User-Agent": CHROME})
            server.wait_loaded()
            reading = json.loads(
                inkling(data_dir, "reading", message["Message-ID"], "--json").stdout
            )
            verdicts = [(e["kind"], e["verdict"], e["agent"]) for e in reading["events"]]
            assert verdicts == [
                ("open", "machine", "apple_mpp"),
                ("open", "human", "mail_client"),
                ("click", "human", "browser"),
            ]
            assert reading["sentence"].startswith("Opened by a person once (Outlook)")

            # A scanner now follows the hidden link from the same place with the same
            # browser: the click before it was the scanner's too.
            trap = client.get(honeypot.group(1), headers={"User-Agent": CHROME})
            assert trap.status_code in (200, 302)
            server.wait_loaded()
            reading = json.loads(
                inkling(data_dir, "reading", message["Message-ID"], "--json").stdout
            )
        click, hidden = reading["events"][2], reading["events"][3]
        assert (click["verdict"], hidden["verdict"]) == ("machine", "machine")
        assert hidden["honeypot"] is True
        assert [h["verdict"] for h in click["history"]] == ["machine"]
        assert reading["clicks"] == {"total": 2, "human": 0, "machine": 2, "unknown": 0}
    finally:
        server.stop()
