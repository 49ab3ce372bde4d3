"""The inbound MX with real SMTP clients (smtplib, swaks): what it accepts, what it hands to
``deliver``, and what it answers when ``deliver`` fails."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from inkling.inbound.server import InboundHandle, start_inbound
from tests.inbound.conftest import BOUNCES

DOMAIN = "return.example"
BOUNCE_TO = "bounces+abc@return.example"
MAX_BYTES = 64 * 1024


def _bounce() -> bytes:
    """A real DSN (flufl.bounce's dsn_01), as it travels: CRLF lines, no mbox From_ line;
    with a line that starts with a dot, which SMTP must carry through unchanged."""
    text = (BOUNCES / "messages" / "dsn_01.txt").read_bytes().split(b"\n", 1)[1]
    return text.replace(b"\n", b"\r\n") + b".a line that starts with a dot\r\n"


@dataclass
class Inbox:
    """The ``deliver`` under test: keeps what it gets, fails while told to."""

    received: list[tuple[bytes, list[str]]] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    failures: int = 0

    def __call__(self, raw: bytes, recipients: list[str]) -> None:
        self.threads.append(threading.current_thread().name)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database is away")
        self.received.append((raw, recipients))


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def mx(inbox: Inbox) -> Iterator[InboundHandle]:
    handle = start_inbound(
        inbox, host="127.0.0.1", port=0, return_domain=DOMAIN, max_bytes=MAX_BYTES
    )
    yield handle
    handle.stop()


def _client(mx: InboundHandle) -> smtplib.SMTP:
    return smtplib.SMTP(mx.host, mx.port, timeout=10)


def test_a_bounce_from_the_null_sender_is_delivered_byte_for_byte(
    mx: InboundHandle, inbox: Inbox
) -> None:
    raw = _bounce()
    with _client(mx) as client:
        client.ehlo("mx.sender.example")
        client.sendmail("", [BOUNCE_TO], raw)  # "" is MAIL FROM:<>
    # 250 came after deliver returned: it is already there
    assert inbox.received == [(raw, [BOUNCE_TO])]
    assert inbox.threads and inbox.threads[0] != "inkling-inbound"  # not on the loop


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_sends_a_bounce(mx: InboundHandle, inbox: Inbox, tmp_path: Path) -> None:
    raw = _bounce()
    message = tmp_path / "bounce.eml"
    message.write_bytes(raw[:-2])  # swaks ends the data with CRLF before the final dot
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{mx.port}", "--from", "<>", "--to", BOUNCE_TO,
         "--data", f"@{message}"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MAIL FROM:<>" in result.stdout
    assert inbox.received == [(raw, [BOUNCE_TO])]


def test_recipients_outside_the_return_domain_are_refused(mx: InboundHandle) -> None:
    with _client(mx) as client:
        client.ehlo("mx.sender.example")
        assert client.mail("")[0] == 250
        for address in ("ann@elsewhere.example", "x@sub.return.example", "x@return.example.org"):
            code, reply = client.rcpt(address)
            assert (code, reply) == (550, b"5.7.1 relaying denied")
        assert client.rcpt("Receipts+XYZ@Return.Example")[0] == 250  # case does not matter
        assert client.rcpt("postmaster")[0] == 250  # RFC 5321 4.5.1


def test_a_message_for_someone_else_is_not_delivered(mx: InboundHandle, inbox: Inbox) -> None:
    with _client(mx) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("spammer@bad.example", ["victim@elsewhere.example"], b"Subject: x\r\n\r\n")
    assert refused.value.recipients["victim@elsewhere.example"][0] == 550
    assert inbox.received == []


def test_no_auth_is_offered(mx: InboundHandle) -> None:
    with _client(mx) as client:
        client.ehlo("mx.sender.example")
        assert not client.has_extn("auth")
        assert client.docmd("AUTH", "PLAIN AHUAcA==")[0] == 502


def test_a_failing_deliver_answers_451_and_the_retry_is_delivered(
    mx: InboundHandle, inbox: Inbox
) -> None:
    raw = _bounce()
    inbox.failures = 1
    with _client(mx) as client, pytest.raises(smtplib.SMTPDataError) as failed:
        client.sendmail("", [BOUNCE_TO], raw)
    assert failed.value.smtp_code == 451
    assert "4.3.0" in str(failed.value)
    assert inbox.received == []
    with _client(mx) as client:  # the sender's retry
        client.sendmail("", [BOUNCE_TO], raw)
    assert inbox.received == [(raw, [BOUNCE_TO])]


def test_oversize_messages_get_552(mx: InboundHandle, inbox: Inbox) -> None:
    big = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n"
    big *= MAX_BYTES // len(big) + 1
    with _client(mx) as client:
        client.ehlo("mx.sender.example")
        assert client.has_extn("size")
        # declared with SIZE=: refused at MAIL
        assert client.mail("", [f"SIZE={len(big)}"])[0] == 552
        # undeclared: refused after the data
        assert client.mail("")[0] == 250
        assert client.rcpt(BOUNCE_TO)[0] == 250
        assert client.data(big)[0] == 552
    assert inbox.received == []
