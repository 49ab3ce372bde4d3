"""A real webhook receiver on loopback for the tests: an ``http.server`` on its own thread
that records every request and answers as told (a status per request, or a hang)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Behaviour:
    """What the receiver answers: ``statuses`` in turn (the last one from then on), after
    ``hang`` seconds of silence."""

    statuses: list[int] = field(default_factory=lambda: [204])
    hang: float = 0.0
    answer: bytes = b""


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.behaviour = Behaviour()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status, hang, answer = receiver._record(
                    Received(self.path, dict(self.headers.items()), body, time.time())
                )
                if hang:
                    time.sleep(hang)
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _record(self, request: Received) -> tuple[int, float, bytes]:
        with self._lock:
            self.received.append(request)
            statuses = self.behaviour.statuses
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            return status, self.behaviour.hang, self.behaviour.answer

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` requests, waiting up to ``timeout`` for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} request(s) arrived, not {count}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receiving(port: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(port)
    try:
        yield receiver
    finally:
        receiver.close()


def dead_port() -> int:
    """A loopback port nothing listens on (bound and closed at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
