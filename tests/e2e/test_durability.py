"""Nothing acknowledged is lost: a real server, killed hard or stopped, keeps every hit it
answered."""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path

import pytest

from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.slow


class Load:
    """Worker threads sending hits over keep-alive connections until stopped, each with a
    unique user agent; ``acknowledged`` holds the agents whose full response arrived."""

    def __init__(self, port: int, paths: list[str], workers: int = 16) -> None:
        self.acknowledged: set[str] = set()
        self._port = port
        self._paths = paths
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, args=(w, workers), daemon=True)
            for w in range(workers)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def _work(self, worker: int, workers: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=10)
        for i in range(worker, len(self._paths), workers):
            if self._stop.is_set():
                break
            agent = f"probe-{i}"
            try:
                connection.request("GET", self._paths[i], headers={"User-Agent": agent})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                break
            if response.status in (200, 302):
                with self._lock:
                    self.acknowledged.add(agent)
        connection.close()


def _paths(codec: TokenCodec, message: str, count: int) -> list[str]:
    sent = int(time.time())  # recent mail: hits on mail past retention are not recorded
    pixel = f"/t/o/{codec.open_token(message, sent)}.gif"
    click = f"/t/c/{codec.click_token(message, 0, sent, 'https://help.acme.example/x')}"
    return [pixel if i % 2 else click for i in range(count)]


def test_kill_9_loses_no_acknowledged_hit(
    data_dir: Path, codec: TokenCodec, database_url: str
) -> None:
    server = ServerProcess(data_dir, database_url)
    message = new_message_id()
    try:
        with Load(server.port, _paths(codec, message, 100_000)) as load:
            load.wait_for(2000)
            server.kill()
        acknowledged = load.acknowledged
    finally:
        server.stop()
    restarted = ServerProcess(data_dir, database_url)  # its loader finds the journal
    try:
        restarted.wait_loaded()
    finally:
        restarted.stop()
    store = Store(database_url)
    recorded = {e.user_agent for e in store.events.for_message(message)}
    store.close()
    assert acknowledged, "the server answered nothing before it was killed"
    assert acknowledged <= recorded, f"{len(acknowledged - recorded)} acknowledged hits lost"


def test_sigterm_flushes_and_exits_cleanly(data_dir: Path, codec: TokenCodec) -> None:
    server = ServerProcess(data_dir)
    message = new_message_id()
    try:
        with Load(server.port, _paths(codec, message, 100_000)) as load:
            load.wait_for(1000)
            # uvicorn re-raises SIGTERM once it has shut down cleanly, as a daemon should
            assert server.terminate() in (0, -15)
        acknowledged = load.acknowledged
    finally:
        server.stop()
    store = Store(f"sqlite:///{data_dir / 'inkling.db'}")
    recorded = [e.user_agent for e in store.events.for_message(message)]
    store.close()
    assert "Traceback" not in server.log.read_text()
    assert len(acknowledged) >= 1000
    assert set(recorded) >= acknowledged
    assert len(recorded) - len(acknowledged) <= 16, (
        "only hits in flight at the stop may lack a reply"
    )
