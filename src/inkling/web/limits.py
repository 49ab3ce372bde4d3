"""Sign-in rate limits: at most so many attempts per window, per client address or account.

Counted in memory, per process: they slow a guesser down at once and cost no database
write. What must outlive a restart or span nodes (the lockout) is in the database.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimit:
    """A sliding window: ``limit`` attempts per ``window`` seconds for each key."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count an attempt for ``key``: 0 if it is allowed, else the seconds until one
        will be (an attempt refused is not counted, so waiting always works)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            if len(self._hits) > self._max_keys:
                self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        """Drop the keys with no attempt in the window (memory stays bounded under a
        spray of addresses)."""
        idle = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in idle:
            del self._hits[key]
