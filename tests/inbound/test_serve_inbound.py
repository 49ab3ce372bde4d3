"""``inkling serve --inbound-port``: a real bounce sent by swaks becomes an event."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.e2e.server import ServerProcess, free_port
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

SWAKS = shutil.which("swaks")
BOUNCE = FIXTURES / "inbound" / "bounces" / "ndn" / "gmail_ndn.eml"
BOUNCED_ID = "<CABXKi8zruXJc_6e4Dr087H5wE7sLp+u250o0N2q5DdjF_r-8wg@mail.gmail.com>"


@pytest.mark.skipif(SWAKS is None, reason="swaks is not installed (apt-get install swaks)")
def test_serve_receives_a_bounce_for_a_sent_message(data_dir: Path) -> None:
    sent = (
        f"Message-ID: {BOUNCED_ID}\r\nSubject: Your refund\r\nContent-Type: text/html\r\n\r\n"
        "<p>Hello</p>"
    ).encode()
    assert inkling(data_dir, "instrument", "-", stdin=sent).returncode == 0
    port = free_port()
    server = ServerProcess(
        data_dir,
        args=("--inbound-port", str(port)),
        env={"INKLING_RETURN_DOMAIN": "return.acme.example"},
    )
    try:
        done = subprocess.run(
            [
                str(SWAKS),
                "--server", f"127.0.0.1:{port}",
                "--from", "<>",
                "--to", "bounces@return.acme.example",
                "--data", f"@{BOUNCE}",
            ],
            capture_output=True,
            timeout=30,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        refused = subprocess.run(
            [str(SWAKS), "--server", f"127.0.0.1:{port}", "--to", "someone@elsewhere.example"],
            capture_output=True,
            timeout=30,
        )
        assert b"550" in refused.stdout
    finally:
        assert server.terminate() in (0, -15)
    reading = json.loads(inkling(data_dir, "reading", BOUNCED_ID, "--json").stdout)
    assert reading["state"] == "bounced"
    [bounce] = reading["events"]
    assert (bounce["kind"], bounce["verdict"], bounce["method"]) == ("bounce", "machine", "SMTP")
    assert "nobody will read it" in reading["sentence"]


def test_inbound_port_without_a_return_domain_is_one_clear_line(data_dir: Path) -> None:
    done = inkling(data_dir, "serve", "--inbound-port", "0")
    assert done.returncode == 2
    assert done.stderr.startswith(b"inkling: --inbound-port needs INKLING_RETURN_DOMAIN")
