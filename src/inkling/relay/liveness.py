"""Whether the process holding a delivery claim is still delivering it.

A claim names its holder as ``HOST|PID|NONCE``. HOST is the host name with, on Linux, the
boot id and the PID namespace, so two processes with the same HOST really share one
process table (two containers with the same name do not). NONCE is drawn when this module
is loaded: a restarted Inkling that happens to get its old PID (PID 1 in a container) is
still told apart from its previous life.

A holder is gone when:

- it is this process, and the copy is not in this process's in-flight set (a claim left
  behind when the store failed while settling it);
- it is on this host, and its PID is this process's (with another nonce) or runs nothing,
  or is a zombie (killed, not yet reaped);
- its lease has lapsed: a holder renews its lease while it delivers, so a holder on
  another host (several nodes on one PostgreSQL) that stopped renewing is gone.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

Key = tuple[str, str]  # (Message-ID, recipient), as a claim is keyed


@dataclass(frozen=True, slots=True)
class Holder:
    host: str
    pid: int
    nonce: str

    def __str__(self) -> str:
        return f"{self.host}|{self.pid}|{self.nonce}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        host, _, rest = text.rpartition("|")
        host, _, pid = host.rpartition("|")
        if not host or not pid.isdigit():
            return None
        return cls(host, int(pid), rest)


class Liveness:
    """This process's identity and the copies it is delivering right now (thread-safe:
    the relay and the sending API deliver from different threads)."""

    def __init__(self, me: Holder | None = None) -> None:
        self.me = me or Holder(_host(), os.getpid(), secrets.token_hex(8))
        self.holder = str(self.me)
        # counted: two attempts here may race for one key (the loser finishes its count
        # without ending the winner's)
        self._in_flight: Counter[Key] = Counter()
        self._lock = threading.Lock()

    def start(self, keys: Iterable[Key]) -> None:
        """Mark copies as being delivered by this process (before claiming them, so no
        one here sees the claim without it). Each start is paired with one finish."""
        with self._lock:
            self._in_flight.update(keys)

    def finish(self, keys: Iterable[Key]) -> None:
        with self._lock:
            self._in_flight.subtract(keys)
            self._in_flight = +self._in_flight  # drop the keys at zero

    def gone(self, holder: str, key: Key, lease_until: float, now: float) -> bool:
        """Whether the claim's holder is no longer delivering it (see the module doc)."""
        if holder == self.holder:
            with self._lock:
                return self._in_flight[key] <= 0
        if now >= lease_until:
            return True
        other = Holder.parse(holder)
        if other is None or other.host != self.me.host:
            return False
        return other.pid == self.me.pid or not _running(other.pid)


def _host() -> str:
    parts = [socket.gethostname()]
    with suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    with suppress(OSError):
        parts.append(str(Path("/proc/self/ns/pid").readlink()))
    return "/".join(parts)


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process on this host (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust kill
    state = stat.rpartition(")")[2].split()[:1]
    return state != ["Z"]


#: This process: one identity and one in-flight set for all its deliveries.
THIS_PROCESS = Liveness()
