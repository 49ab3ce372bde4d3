"""Real peers for the relay: an aiosmtpd sink as the upstream, and the relay itself on
loopback, each on a free port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from inkling.config import Settings
from inkling.relay import RelayHandle, start_relay
from inkling.relay.listener import Listener
from inkling.server import Services

BASE_URL = "https://t.acme.example"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SinkHandler:
    """The upstream mail server: keeps what it accepts, refuses what it is told to."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    refuse_data_for: dict[str, str] = field(default_factory=dict)
    transactions: int = 0

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
        return "250 2.0.0 queued"


@dataclass
class Sink:
    handler: SinkHandler
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.handler.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.handler.received


@pytest.fixture
def sink() -> Iterator[Sink]:
    handler = SinkHandler()

    def factory(loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        return SMTP(handler, loop=loop, hostname="sink.test", enable_SMTPUTF8=True)

    listener = Listener(factory, "127.0.0.1", 0, name="sink")
    listener.start()
    yield Sink(handler, listener.port)
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
    """Starts relays with settings overrides (upstream: the sink); stops them after."""
    monkeypatch.chdir(tmp_path)  # no stray inkling.toml
    started: list[Relay] = []

    def start(**overrides: object) -> Relay:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "base_url": BASE_URL,
            "relay_upstream": sink.url,
        }
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        services = Services.open(settings)
        relay = Relay(start_relay(services, settings, host="127.0.0.1", port=0), services)
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.handle.stop()
        relay.services.store.close()


@pytest.fixture
def relay(relay_factory: RelayFactory) -> Relay:
    return relay_factory()
