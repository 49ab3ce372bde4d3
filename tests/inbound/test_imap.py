"""The IMAP poller against a real IMAP server (a private Dovecot, see ``dovecot.py``):
each message delivered once, across rounds and restarts, and the mailbox left untouched."""

from __future__ import annotations

import imaplib
import json
import logging
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from inkling.inbound.imap import ImapPoller
from tests.inbound.dovecot import PASSWORD, USER, Dovecot, dovecot_binary

DAY = 86400.0


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("dovecot is not installed (scripts/test-services installs dovecot-imapd)")
    server = Dovecot(binary)
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    return dovecot.add_mailbox()


@dataclass
class Inbox:
    """The ``deliver`` under test: keeps what it gets, fails at the messages it is told to."""

    received: list[bytes] = field(default_factory=list)
    fail_on: set[bytes] = field(default_factory=set)

    def __call__(self, raw: bytes, recipients: list[str]) -> None:
        assert recipients == []
        for marker in self.fail_on:
            if marker in raw:
                self.fail_on.discard(marker)
                raise RuntimeError("the database is away")
        self.received.append(raw)

    @property
    def subjects(self) -> list[str]:
        return [
            raw.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0].decode() for raw in self.received
        ]


def _mail(subject: str, message_id: str | None = None) -> bytes:
    message_id = message_id or f"<{subject.replace(' ', '.')}@customer.example>"
    return (
        f"From: Ann <ann@customer.example>\r\nTo: help@support.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"In-Reply-To: <ticket-1@support.example>\r\n\r\nThanks, {subject}.\r\n"
    ).encode()


def _poller(
    dovecot: Dovecot, mailbox: str, inbox: Inbox, state: Path, **kwargs: object
) -> ImapPoller:
    return ImapPoller(dovecot.url(mailbox), inbox, state, **kwargs)  # type: ignore[arg-type]


def test_each_message_is_delivered_once(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "imap-state.json"
    inbox = Inbox()
    assert _poller(dovecot, mailbox, inbox, state).poll_once() == 0  # empty
    first, second = _mail("one"), _mail("two")
    dovecot.put(mailbox, first)
    dovecot.put(mailbox, second)
    poller = _poller(dovecot, mailbox, inbox, state)
    assert poller.poll_once() == 2
    assert inbox.received == [first, second]  # oldest first, exact bytes
    assert poller.poll_once() == 0
    third = _mail("three")
    dovecot.put(mailbox, third)
    assert poller.poll_once() == 1
    assert inbox.received == [first, second, third]
    saved = json.loads(state.read_text())
    assert saved["uid"] == 3 and saved["uidvalidity"] > 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_restart_delivers_nothing_twice(dovecot: Dovecot, mailbox: str, tmp_path: Path) -> None:
    state = tmp_path / "imap-state.json"
    dovecot.put(mailbox, _mail("one"))
    assert _poller(dovecot, mailbox, Inbox(), state).poll_once() == 1
    dovecot.put(mailbox, _mail("two"))
    inbox = Inbox()  # a new process, the same state file
    restarted = _poller(dovecot, mailbox, inbox, state)
    assert restarted.poll_once() == 1
    assert inbox.subjects == ["two"]
    assert restarted.poll_once() == 0


def test_the_mailbox_is_left_exactly_as_it_was(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    unread = dovecot.put(mailbox, _mail("unread"))
    seen_flagged = dovecot.put(mailbox, _mail("read and flagged"), flags="FS")
    answered = dovecot.put(mailbox, _mail("answered"), flags="R")
    before = dovecot.flags(mailbox)
    files_before = dovecot.files(mailbox)
    assert before[1] == "\\Recent"  # new mail: unread, and nobody has seen it arrive
    inbox = Inbox()
    assert _poller(dovecot, mailbox, inbox, tmp_path / "state.json").poll_once() == 3
    assert dovecot.flags(mailbox) == before  # no \Seen, and not even \Recent was taken
    files_after = dovecot.files(mailbox)
    assert files_after == files_before  # nothing moved, renamed or deleted
    assert all(path.exists() for path in (unread, seen_flagged, answered))


def test_the_flag_check_would_see_a_reader_that_marks_mail_read(
    dovecot: Dovecot, mailbox: str
) -> None:
    """The control for the test above: SELECT and BODY[] do change what Dovecot reports."""
    dovecot.put(mailbox, _mail("read by a careless client"))
    client = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
    try:
        client.login(USER, PASSWORD)
        client.select(mailbox)
        client.uid("FETCH", "1", "(BODY[])")
    finally:
        client.logout()
    assert dovecot.flags(mailbox) == {1: "\\Seen"}


def test_a_failing_deliver_is_retried_next_round(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for subject in ("one", "two", "three"):
        dovecot.put(mailbox, _mail(subject))
    inbox = Inbox(fail_on={b"Subject: two"})
    poller = _poller(dovecot, mailbox, inbox, tmp_path / "state.json", interval=10.0)
    assert poller.poll_once() == 1  # stops at "two"
    assert inbox.subjects == ["one"]
    assert "retried next round" in caplog.text
    assert poller.next_wait() == 20.0  # backs off
    assert poller.poll_once() == 2
    assert inbox.subjects == ["one", "two", "three"]
    assert poller.next_wait() == 10.0


def test_a_server_that_is_down_is_logged_and_retried(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state.json"
    dovecot.put(mailbox, _mail("one"))
    inbox = Inbox()
    closed_port = dovecot.url(mailbox).replace(f":{dovecot.port}/", ":1/")
    down = ImapPoller(closed_port, inbox, state, interval=5.0)
    with caplog.at_level(logging.WARNING, logger="inkling.inbound.imap"):
        assert down.poll_once() == 0
        assert down.poll_once() == 0
    assert "ConnectionRefusedError" in caplog.text
    assert down.next_wait() == 20.0
    wrong_password = ImapPoller(dovecot.url(mailbox, "wrong"), inbox, state)
    assert wrong_password.poll_once() == 0
    assert "IMAP poll of" in caplog.text and "wrong" not in caplog.text  # no password in logs
    assert inbox.received == [] and not state.exists()
    assert _poller(dovecot, mailbox, inbox, state).poll_once() == 1


def test_a_changed_uidvalidity_delivers_only_newer_messages(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    now = time.time()
    dovecot.put(mailbox, _mail("old"), at=now - 3 * DAY)
    dovecot.put(mailbox, _mail("same second a"), at=now - DAY)
    assert _poller(dovecot, mailbox, Inbox(), state).poll_once() == 2
    # arrived in the same second as the newest delivered one, not yet seen by the poller
    dovecot.put(mailbox, _mail("same second b"), at=now - DAY)
    dovecot.put(mailbox, _mail("newer"), at=now - 60)
    dovecot.put(mailbox, _mail("filed with an old date"), at=now - 2 * DAY)
    dovecot.set_uidvalidity(mailbox, json.loads(state.read_text())["uidvalidity"] + 1000)
    inbox = Inbox()
    poller = _poller(dovecot, mailbox, inbox, state)
    assert poller.poll_once() == 2
    assert inbox.subjects == ["same second b", "newer"]
    assert json.loads(state.read_text())["uid"] == 5  # the new UIDs are adopted
    dovecot.put(mailbox, _mail("after"))
    assert poller.poll_once() == 1
    assert inbox.subjects[-1] == "after"


def test_the_thread_polls_and_stops(dovecot: Dovecot, mailbox: str, tmp_path: Path) -> None:
    dovecot.put(mailbox, _mail("one"))
    inbox = Inbox()
    poller = _poller(dovecot, mailbox, inbox, tmp_path / "state.json", interval=0.1)
    poller.start()
    try:
        deadline = time.monotonic() + 10
        while len(inbox.received) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        dovecot.put(mailbox, _mail("two"))
        while len(inbox.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        started = time.monotonic()
        poller.stop()
    assert time.monotonic() - started < 2
    assert inbox.subjects == ["one", "two"]


@pytest.mark.parametrize("scheme", ["imaps", "imap+starttls"])
def test_tls_is_used_and_verified(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.put(mailbox, _mail("over tls"))
    url = dovecot.url(mailbox, scheme=scheme)
    unverified = ImapPoller(url, Inbox(), tmp_path / "state.json")
    assert unverified.poll_once() == 0  # a self-signed certificate is not trusted by default
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    inbox = Inbox()
    trusting = ssl.create_default_context(cafile=dovecot.cert)
    poller = ImapPoller(url, inbox, tmp_path / "state.json", ssl_context=trusting)
    assert poller.poll_once() == 1
    assert inbox.subjects == ["over tls"]


def test_a_mailbox_name_with_spaces_and_quotes(dovecot: Dovecot, tmp_path: Path) -> None:
    mailbox = dovecot.add_mailbox('Support "Replies" ')
    dovecot.put(mailbox, _mail("quoted"))
    inbox = Inbox()
    url = dovecot.url(quote(mailbox))
    assert ImapPoller(url, inbox, tmp_path / "state.json").poll_once() == 1
    assert inbox.subjects == ["quoted"]


def test_a_message_over_the_size_limit_is_skipped(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.put(mailbox, _mail("huge") + b"x" * 5000 + b"\r\n")
    dovecot.put(mailbox, _mail("small"))
    inbox = Inbox()
    poller = _poller(dovecot, mailbox, inbox, tmp_path / "state.json", max_bytes=2000)
    assert poller.poll_once() == 1
    assert inbox.subjects == ["small"]
    assert "over the limit" in caplog.text
    assert poller.poll_once() == 0
