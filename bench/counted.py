"""A client that sends an exact number of requests, for instruction counts per hit.

wrk runs for a time and drops the requests in flight when it stops, so the server may have
answered more than wrk counted; under callgrind the count must be exact. This client keeps
``connections`` keep-alive connections, each with one request in flight (as wrk does), and
sends the next request of the cycle on a connection as soon as its answer is complete,
until exactly ``count`` answers have arrived. Answers are read by ``Content-Length`` (the
tracker and the bare app always send one); each byte is scanned once.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

_HEAD_END = b"\r\n\r\n"


@dataclass
class Counted:
    """What came back: answers by status, and the wall time they took."""

    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def answers(self) -> int:
        return sum(self.statuses.values())

    @property
    def failures(self) -> int:
        """Answers that are neither 2xx nor 3xx."""
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 400)


class _Connection:
    """One keep-alive connection and what it has received of its current answer."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.scanned = 0  # bytes of ``buffer`` already searched for the end of the head
        self.expected: int | None = None  # head + body length, once the head is complete
        self.status = 0

    def feed(self, data: bytes) -> int | None:
        """Add received bytes; returns the status once the whole answer is in, else None.
        (One request in flight per connection, so nothing follows the answer.)"""
        self.buffer += data
        if self.expected is None:
            end = self.buffer.find(_HEAD_END, max(0, self.scanned - 3))
            if end < 0:
                self.scanned = len(self.buffer)
                return None
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            self.status = int(head[0].split(" ", 2)[1])
            self.expected = end + 4 + _content_length(head[1:])
        if len(self.buffer) < self.expected:
            return None
        if len(self.buffer) > self.expected:
            raise RuntimeError("server sent more than one answer for one request")
        status, self.status = self.status, 0
        self.buffer.clear()
        self.scanned, self.expected = 0, None
        return status


def _content_length(lines: list[str]) -> int:
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return int(value.strip())
    raise RuntimeError("answer without Content-Length")


def send(
    host: str,
    port: int,
    requests: Sequence[bytes],
    count: int,
    connections: int = 64,
    timeout: float = 900.0,
    start: int = 0,
) -> Counted:
    """Send exactly ``count`` requests, taken in turn from ``requests`` (from position
    ``start``), over ``connections`` connections; raises if it takes over ``timeout`` s."""
    result = Counted()
    if count <= 0:
        return result
    began = time.monotonic()
    deadline = began + timeout
    selector = selectors.DefaultSelector()
    sent = 0
    try:
        for _ in range(min(connections, count)):
            sock = socket.create_connection((host, port), timeout=30)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(requests[(start + sent) % len(requests)])
            sent += 1
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, _Connection(sock))
        while result.answers < count:
            ready = selector.select(timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                raise RuntimeError(
                    f"no answer within {timeout:.0f} s ({result.answers} of {count})"
                )
            for key, _ in ready:
                connection: _Connection = key.data
                data = connection.sock.recv(65536)
                if not data:
                    raise RuntimeError("server closed a keep-alive connection")
                status = connection.feed(data)
                if status is None:
                    continue
                result.statuses[status] += 1
                if sent < count:
                    connection.sock.setblocking(True)
                    connection.sock.sendall(requests[(start + sent) % len(requests)])
                    connection.sock.setblocking(False)
                    sent += 1
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        selector.close()
    result.seconds = time.monotonic() - began
    return result
