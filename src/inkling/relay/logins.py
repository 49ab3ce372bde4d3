"""Limits on password guessing at the relay's AUTH, per connection and per client address.

- **Per connection**: after ``per_connection`` wrong logins the relay answers ``421`` and
  closes the connection (the SMTP session, ``session.py``, counts them).
- **Per address**: every wrong login from an address within ``window`` seconds doubles
  the wait before the address's next AUTH is answered (``first_delay``, then twice that,
  up to ``max_delay``); the wait comes *before* the password is checked, so a client
  cannot learn the answer sooner by hanging up. After ``per_address`` wrong logins in the
  window, AUTH from that address is answered ``454`` (try later) without looking at the
  password, until the oldest of them is ``window`` seconds old.

Once an address has failed, or when more than ``FREE_CONCURRENT`` of its logins are under
way at once, its logins take turns, so opening many connections does not multiply the
guesses. An IPv6 client is counted by its /64, which is what one host usually holds.

Memory is bounded: at most ``max_addresses`` addresses are remembered (the least recently
seen is forgotten first), each with at most ``per_address`` failure times.

Waits use ``asyncio.sleep``: one client waiting never holds up another.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import islice

#: Logins from one address that may run side by side before they take turns.
FREE_CONCURRENT = 3


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_connection: int = 3
    per_address: int = 10
    window: float = 900.0
    first_delay: float = 0.5
    max_delay: float = 8.0
    max_addresses: int = 10_000

    def delay(self, failures: int) -> float:
        """The wait before answering an address with ``failures`` recent failures."""
        if failures <= 0:
            return 0.0
        return float(min(self.first_delay * 2 ** (failures - 1), self.max_delay))


@dataclass(slots=True)
class Attempt:
    """One AUTH: whether the address is refused outright, and (set by the caller once
    known) whether the password was wrong."""

    refused: bool
    waited: float
    failed: bool = False


@dataclass(slots=True)
class _Address:
    failures: deque[float]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    under_way: int = 0


class LoginGuard:
    """The per-address table, shared by all the relay's connections (one event loop)."""

    def __init__(self, limits: LoginLimits, *, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._addresses: OrderedDict[str, _Address] = OrderedDict()

    @asynccontextmanager
    async def attempt(self, peer: str) -> AsyncIterator[Attempt]:
        """Wait this address's turn and delay, then yield the attempt; on leaving, a
        failure the caller set on it is counted."""
        entry = self._entry(_address_key(peer))
        entry.under_way += 1
        try:
            contended = bool(entry.failures) or entry.under_way > FREE_CONCURRENT
            async with entry.lock if contended else _no_lock():
                attempt = await self._admit(entry)
                yield attempt
                if attempt.failed:
                    entry.failures.append(self._clock())
        finally:
            entry.under_way -= 1

    @property
    def remembered(self) -> int:
        """How many addresses the table holds now."""
        return len(self._addresses)

    def recent_failures(self, peer: str) -> int:
        entry = self._addresses.get(_address_key(peer))
        if entry is None:
            return 0
        self._prune(entry)
        return len(entry.failures)

    async def _admit(self, entry: _Address) -> Attempt:
        self._prune(entry)
        wait = self.limits.delay(len(entry.failures))
        if wait:
            await asyncio.sleep(wait)
            self._prune(entry)
        return Attempt(refused=len(entry.failures) >= self.limits.per_address, waited=wait)

    def _entry(self, key: str) -> _Address:
        entry = self._addresses.get(key)
        if entry is None:
            entry = _Address(deque(maxlen=self.limits.per_address))
            self._addresses[key] = entry
            self._evict()
        self._addresses.move_to_end(key)
        return entry

    def _evict(self) -> None:
        """Forget the least recently seen addresses beyond the bound (never one whose
        logins are under way: its entry is in use)."""
        excess = len(self._addresses) - self.limits.max_addresses
        if excess <= 0:
            return
        for key in list(islice(self._addresses, excess + 64)):
            if self._addresses[key].under_way == 0:
                del self._addresses[key]
                excess -= 1
                if excess == 0:
                    return

    def _prune(self, entry: _Address) -> None:
        horizon = self._clock() - self.limits.window
        while entry.failures and entry.failures[0] <= horizon:
            entry.failures.popleft()


@asynccontextmanager
async def _no_lock() -> AsyncIterator[None]:
    yield


def _address_key(peer: str) -> str:
    """The address a limit applies to: an IPv4 address, or an IPv6 /64."""
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return peer
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
