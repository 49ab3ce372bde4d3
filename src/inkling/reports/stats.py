"""Rates and percentiles as the report writes them: rounded once, null with no denominator.

Rates (shares from 0 to 1) are rounded to 3 decimals, hours to 1; a rate whose denominator
is zero and a percentile of nothing are ``None`` (JSON null), never 0, which would read as
a measured zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RATE_DECIMALS = 3
HOURS_DECIMALS = 1


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 3 decimals; None when ``whole`` is 0."""
    return round(part / whole, RATE_DECIMALS) if whole else None


def hours(value: float | None) -> float | None:
    return None if value is None else round(value, HOURS_DECIMALS)


def percentile(ordered: Sequence[float], share: float) -> float | None:
    """The ``share`` percentile (0.5 the median) of ``ordered`` (sorted), by linear
    interpolation between the closest ranks (numpy's default, Excel's PERCENTILE.INC):
    the median of 2, 4, 6, 8 is 5, their p90 7.4. None for no values."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * share
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
