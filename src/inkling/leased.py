"""Work that runs on one node at a time: a companion started only while this node holds
its lease (``store/leases.py``), and stopped when it cannot keep it.

Every node runs a :class:`LeasedWork` for each such companion. It tries to take the lease
every ``seconds / 3``; the node that gets it starts the work and renews the lease as often.
If a renewal fails (the database is away, or another node took an expired lease) the work
goes on until a third of the lease is left, then stops, so two nodes never do it at once
(their clocks must agree to well within that: run NTP); a node that dies stops renewing,
and another takes over within ``seconds`` and a third of that. A clean stop gives the
lease up at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from inkling.errors import StoreError
from inkling.store.leases import Leases

log = logging.getLogger("inkling.leases")

#: How long a lease lasts unless renewed: a dead holder's work waits this long at most
#: (and a third more) before another node does it.
LEASE_SECONDS = 15.0

Start = Callable[[], Callable[[], None]]


def node_name() -> str:
    """This process as a lease holder: host, process id, and a random part (a restarted
    process with the same pid is another holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeasedWork:
    """Runs ``start()`` (which returns its stop function) while ``holder`` holds ``name``."""

    def __init__(
        self,
        leases: Leases,
        name: str,
        start: Start,
        *,
        holder: str,
        seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._leases = leases
        self.name = name
        self._start = start
        self._holder = holder
        self._seconds = seconds
        self._clock = clock
        self._halt = threading.Event()
        self._stop_work: Callable[[], None] | None = None
        self._held_until = 0.0
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    @property
    def running(self) -> bool:
        """Whether this node does the work now."""
        return self._stop_work is not None

    def start(self) -> Callable[[], None]:
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(timeout=self._seconds)
        self._stop()
        try:
            self._leases.release(self.name, self._holder)
        except StoreError as exc:  # it expires on its own
            log.warning("lease %s: not given up (%s); it expires on its own", self.name, exc)

    def _run(self) -> None:
        while True:
            self._turn()
            if self._halt.wait(self._seconds / 3):
                return

    def _turn(self) -> None:
        now = self._clock()
        try:
            held = self._leases.take(self.name, self._holder, self._seconds, now)
        except StoreError as exc:
            held = False
            if self.running:
                log.warning("lease %s: not renewed (%s)", self.name, exc)
        if held:
            self._held_until = now + self._seconds
            if not self.running:
                log.info("lease %s: taken by %s; starting the work", self.name, self._holder)
                self._stop_work = self._start()
        elif self.running and now >= self._held_until - self._seconds / 3:
            # not renewed twice: stop a third of the lease before another node may take it
            log.warning("lease %s: lost; stopping the work on this node", self.name)
            self._stop()

    def _stop(self) -> None:
        stop, self._stop_work = self._stop_work, None
        if stop is not None:
            stop()
