"""When to try a failed delivery again, and when to give up.

Exponential backoff with jitter: the ``n``-th failure waits ``base * 2**(n-1)`` seconds,
at most ``ceiling``, each wait drawn between half and all of that (so receivers that come
back are not hit by every sender at once). A row still failing ``horizon`` after it was
queued is given up on and marked failed. The defaults: 5 s, doubling to at most one hour,
given up after 3 days (about 80 attempts).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DEFAULT_BASE_SECONDS = 5.0
DEFAULT_CEILING_SECONDS = 3600.0
DEFAULT_HORIZON_SECONDS = 3 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float = DEFAULT_BASE_SECONDS
    ceiling: float = DEFAULT_CEILING_SECONDS
    horizon: float = DEFAULT_HORIZON_SECONDS

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1 or more)."""
        exponent = min(max(failures, 1) - 1, 60)  # 2**60 s is past any ceiling already
        full = min(self.ceiling, self.base * 2.0**exponent)
        return random.uniform(full / 2, full)

    def expired(self, queued_at: float, now: float) -> bool:
        """Whether a row queued at ``queued_at`` is past the horizon at ``now``."""
        return now - queued_at >= self.horizon
