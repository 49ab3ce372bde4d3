"""Real peers for the relay: an aiosmtpd sink as the upstream, and the relay itself on
loopback, each on a free port."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from inkling import root
from inkling.config import Settings
from inkling.mail.listener import Listener
from inkling.relay import LoginLimits, RelayHandle, start_relay
from inkling.root import Services

BASE_URL = "https://t.acme.example"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


#: Where a stalling sink holds its client: at the DATA command (before it has any of the
#: message), or once it has the whole message, final dot included, and has kept it
#: (before its answer).
StallPoint = Literal["data_command", "message"]
STALL_LIMIT_SECONDS = 30.0


@dataclass
class Stall:
    """Holds the sink, once, at one point until the test lets it go."""

    at: StallPoint
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def hold(self) -> None:
        self.reached.set()
        await asyncio.to_thread(self.release.wait, STALL_LIMIT_SECONDS)


@dataclass
class SinkHandler:
    """The upstream mail server: keeps what it accepts, refuses what it is told to."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    refuse_data_for: dict[str, str] = field(default_factory=dict)
    transactions: int = 0
    stall: Stall | None = None
    #: Keep the message, then hang up instead of answering (the answer is lost).
    hang_up_after_message: bool = False

    def stall_at(self, point: StallPoint) -> Stall | None:
        """The stall armed at ``point``, disarmed as it is taken (it holds once)."""
        stall = self.stall
        if stall is None or stall.at != point:
            return None
        self.stall = None
        return stall

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.transactions += 1
        for recipient in envelope.rcpt_tos:
            if recipient in self.refuse_data_for:
                return self.refuse_data_for[recipient]
        assert envelope.original_content is not None and envelope.mail_from is not None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        stall = self.stall_at("message")
        if stall is not None:  # kept (as a real server queues it), the answer held back
            await stall.hold()
        if self.hang_up_after_message:
            self.hang_up_after_message = False
            # aiosmtpd types it BaseTransport; abort() is on WriteTransport
            assert isinstance(server.transport, asyncio.WriteTransport)
            server.transport.abort()
        return "250 2.0.0 queued"


class SinkSMTP(SMTP):
    """aiosmtpd's SMTP, able to stall at the DATA command itself."""

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        stall = handler.stall_at("data_command") if isinstance(handler, SinkHandler) else None
        if stall is not None:
            await stall.hold()
        await super().smtp_DATA(arg)


@dataclass
class Sink:
    handler: SinkHandler
    port: int
    stalls: list[Stall] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.handler.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.handler.received

    def stall(self, at: StallPoint) -> Stall:
        """Hold the next transaction at ``at`` until ``release`` is set (the fixture
        releases it at the end in any case)."""
        stall = Stall(at)
        self.stalls.append(stall)
        self.handler.stall = stall
        return stall


@pytest.fixture
def sink() -> Iterator[Sink]:
    handler = SinkHandler()

    def factory(loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        return SinkSMTP(handler, loop=loop, hostname="sink.test", enable_SMTPUTF8=True)

    listener = Listener(factory, "127.0.0.1", 0, name="sink")
    listener.start()
    sink = Sink(handler, listener.port)
    yield sink
    for stall in sink.stalls:
        stall.release.set()
    listener.stop()


@dataclass
class Relay:
    handle: RelayHandle
    services: Services

    @property
    def port(self) -> int:
        return self.handle.port


RelayFactory = Callable[..., Relay]


@pytest.fixture
def relay_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sink: Sink
) -> Iterator[RelayFactory]:
    """Starts relays with settings overrides (upstream: the sink), and ``logins`` for the
    relay's login limits; stops them after."""
    monkeypatch.chdir(tmp_path)  # no stray inkling.toml
    started: list[Relay] = []

    def start(*, logins: LoginLimits | None = None, **overrides: object) -> Relay:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "base_url": BASE_URL,
            "relay_upstream": sink.url,
        }
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        services = root.open_services(settings)
        options = root.relay_options(settings, services, host="127.0.0.1", port=0)
        if logins is not None:
            options = dataclasses.replace(options, logins=logins)
        relay = Relay(start_relay(root.outbound(settings, services), options), services)
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.handle.stop()
        relay.services.store.close()


@pytest.fixture
def relay(relay_factory: RelayFactory) -> Relay:
    return relay_factory()
