"""kill -9 at the worst moments of a delivery: ``inkling serve --relay-port`` as a real
process, a real upstream that stalls on cue, a real client that resends after the crash.
Each copy reaches the upstream exactly once, and the resend is answered 250."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inkling.datadir import DataDir
from inkling.store import Store
from tests.e2e.server import ServerProcess, free_port
from tests.relay.conftest import Sink, StallPoint
from tests.relay.messages import support_reply
from tests.relay.test_relay import ANN, BOB

pytestmark = pytest.mark.slow
MESSAGE_ID = "<reply-1@acme.example>"
#: ``inkling serve`` can take a while to come up on a busy machine.
START_SECONDS = 60.0


class RelayServer(ServerProcess):
    """``inkling serve`` with the relay on ``relay_port``, forwarding to the sink."""

    def __init__(self, data_dir: Path, sink: Sink, relay_port: int) -> None:
        self.relay_port = relay_port
        super().__init__(
            data_dir,
            args=("--relay-port", str(relay_port)),
            env={"INKLING_RELAY_UPSTREAM": sink.url},
        )

    def _wait_ready(self, timeout: float = START_SECONDS) -> None:
        super()._wait_ready(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.relay_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the relay did not come up")


def transact(port: int, recipients: list[str]) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        client.mail("support@acme.example")
        for recipient in recipients:
            assert client.rcpt(recipient)[0] == 250
        code, text = client.data(support_reply())
        return code, text.decode()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor


def _killed_at(
    point: StallPoint, data_dir: Path, sink: Sink, pool: ThreadPoolExecutor, recipients: list[str]
) -> int:
    """Send through a relay process, kill -9 it while the upstream stalls at ``point``,
    then let the upstream go on; the relay port, for the restart."""
    relay_port = free_port()
    stall = sink.stall(point)
    server = RelayServer(data_dir, sink, relay_port)
    try:
        first = pool.submit(transact, relay_port, recipients)
        assert stall.reached.wait(30), "the upstream never got the message"
        server.kill()
        with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
            first.result(timeout=30)
    finally:
        stall.release.set()
        server.stop()
    return relay_port


def _copies(data_dir: Path) -> list[tuple[str, bool]]:
    store = Store(DataDir(data_dir).sqlite_url)
    try:
        return [
            (r.recipient, r.relayed_at is not None) for r in store.messages.copies_of(MESSAGE_ID)
        ]
    finally:
        store.close()


def test_killed_after_the_upstream_has_the_message(
    data_dir: Path, sink: Sink, pool: ThreadPoolExecutor
) -> None:
    relay_port = _killed_at("message", data_dir, sink, pool, [ANN])
    [kept] = sink.wait_for(1)  # the upstream answered 250 to a dead client: it has it
    assert kept.rcpt_tos == [ANN]

    server = RelayServer(data_dir, sink, relay_port)
    try:
        assert transact(relay_port, [ANN]) == (250, "2.0.0 relayed as 1 copy")
        time.sleep(0.5)
        assert [r.rcpt_tos for r in sink.handler.received] == [[ANN]]  # exactly once
    finally:
        assert server.terminate() in (0, -15)
    assert _copies(data_dir) == [(ANN, True)]


def test_killed_before_the_upstream_has_the_message(
    data_dir: Path, sink: Sink, pool: ThreadPoolExecutor
) -> None:
    relay_port = _killed_at("data_command", data_dir, sink, pool, [ANN, BOB])
    time.sleep(0.5)
    assert sink.handler.received == []  # the stalled upstream got no final dot

    server = RelayServer(data_dir, sink, relay_port)
    try:
        assert transact(relay_port, [ANN, BOB]) == (250, "2.0.0 relayed as 2 copies")
        received = sink.wait_for(2)
        time.sleep(0.5)
        assert sorted(r.rcpt_tos[0] for r in received) == [ANN, BOB]
        assert len(sink.handler.received) == 2  # each exactly once
    finally:
        assert server.terminate() in (0, -15)
    assert sorted(_copies(data_dir)) == [(ANN, True), (BOB, True)]
