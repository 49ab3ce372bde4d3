"""A load of hits on a real server, remembering what it acknowledged.

Worker threads send pixel and link hits over keep-alive connections, each hit with a user
agent of its own (``probe-N``), so what is stored can be matched hit for hit. A hit is
*acknowledged* when its full response arrived and did not say ``x-inkling-recorded: no``;
*answered* when the customer got what they asked for (the GIF, the redirect) at all.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Iterator

from inkling.model import InklingId
from inkling.tokens import TokenCodec

_probes = itertools.count()


def hit_paths(codec: TokenCodec, message: InklingId) -> tuple[str, str]:
    """A pixel path and a link path of ``message``."""
    sent = int(time.time())  # recent mail: hits on mail past retention are not recorded
    pixel = f"/t/o/{codec.open_token(message, sent)}.gif"
    click = f"/t/c/{codec.click_token(message, 0, sent, 'https://help.acme.example/x')}"
    return pixel, click


class Load:
    """Sends hits until stopped (a ``with`` block); see the module docstring."""

    def __init__(
        self,
        port: int,
        paths: tuple[str, str],
        *,
        workers: int = 8,
        forwarded_for: str | None = None,
    ) -> None:
        self.acknowledged: set[str] = set()
        self.answered: set[str] = set()
        self.unrecorded: set[str] = set()  # answered, but said not recorded
        self.failed: list[str] = []  # neither: an error status or a broken connection
        self._port = port
        self._paths = paths
        self._forwarded_for = forwarded_for
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` hits were answered (or the time is up)."""
        deadline = time.monotonic() + timeout
        while len(self.answered) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def _probes(self) -> Iterator[tuple[str, str]]:
        while not self._stop.is_set():
            n = next(_probes)
            yield f"probe-{n}", self._paths[n % 2]

    def _work(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=10)
        try:
            self._send(connection)
        finally:  # also when the server went away: no socket left for the collector
            connection.close()

    def _send(self, connection: http.client.HTTPConnection) -> None:
        headers = {"X-Forwarded-For": self._forwarded_for} if self._forwarded_for else {}
        for agent, path in self._probes():
            try:
                connection.request("GET", path, headers={"User-Agent": agent, **headers})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                with self._lock:
                    self.failed.append(f"{agent}: {exc!r}")
                return  # the server went away (killed, say): this worker is done
            with self._lock:
                if response.status not in (200, 302):
                    self.failed.append(f"{agent}: HTTP {response.status}")
                    continue
                self.answered.add(agent)
                if response.getheader("x-inkling-recorded") == "no":
                    self.unrecorded.add(agent)
                else:
                    self.acknowledged.add(agent)
