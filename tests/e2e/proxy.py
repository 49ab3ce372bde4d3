"""A small round-robin TCP proxy on loopback: several nodes behind one address, as a load
balancer puts them.

Each client connection goes to the next upstream in turn. An upstream that refuses the
connection (a node that is down) is passed over for the next one, as nginx does with
``proxy_next_upstream error``, so a client is refused only when every upstream refuses.
Bytes are copied both ways as they come: a node killed mid-request breaks its clients'
connections, as it would behind a real balancer. What each connection sent is kept
(:attr:`Proxy.sent`), so a test can tell which node was asked what.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from dataclasses import dataclass, field

CONNECT_TIMEOUT = 2.0
CHUNK = 65536


@dataclass
class Connection:
    """One client connection: the upstream it went to and every byte the client sent."""

    upstream: int
    sent: bytearray = field(default_factory=bytearray)


class Proxy:
    """Listens on a free loopback port until :meth:`close`; see the module docstring."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = list(ports)
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.sent: list[Connection] = []
        #: How often each upstream refused a connection (and the next one was tried).
        self.refused = [0] * len(ports)
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, name="proxy", daemon=True)
        self._thread.start()

    def route(self, upstream: int, port: int) -> None:
        """Send upstream number ``upstream``'s share to ``port`` from now on (a restarted
        node listens on a new port)."""
        with self._lock:
            self._ports[upstream] = port

    def connections(self, upstream: int) -> list[Connection]:
        with self._lock:
            return [c for c in self.sent if c.upstream == upstream]

    def close(self) -> None:
        _shut(self._listener)  # wakes the accept() under way
        self._listener.close()
        with self._lock:
            for sock in self._open:
                _shut(sock)
        self._thread.join(5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream, server = self._connect()
        if server is None:
            client.close()  # every node refused: so does the balancer
            return
        connection = Connection(upstream)
        with self._lock:
            self.sent.append(connection)
            self._open.update((client, server))
        back = threading.Thread(target=self._pipe, args=(server, client, None), daemon=True)
        back.start()
        self._pipe(client, server, connection.sent)
        back.join()
        with self._lock:
            self._open.difference_update((client, server))
        client.close()
        server.close()

    def _connect(self) -> tuple[int, socket.socket | None]:
        with self._lock:
            first, ports = next(self._turn), list(self._ports)
        for step in range(len(ports)):
            upstream = (first + step) % len(ports)
            try:
                server = socket.create_connection(
                    ("127.0.0.1", ports[upstream]), timeout=CONNECT_TIMEOUT
                )
            except OSError:  # refused: the next upstream
                with self._lock:
                    self.refused[upstream] += 1
                continue
            server.settimeout(None)
            return upstream, server
        return -1, None

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, record: bytearray | None) -> None:
        """Copy ``source`` to ``sink`` until either ends, then end both."""
        try:
            while chunk := source.recv(CHUNK):
                if record is not None:
                    record += chunk
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            _shut(source)
            _shut(sink)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
