"""The period a report covers: ``[since, until)``, the last 30 days unless told otherwise."""

from __future__ import annotations

import time
from dataclasses import dataclass

from inkling.errors import InklingError
from inkling.times import parse_time

DEFAULT_DAYS = 30
_DAY = 86_400.0
#: Times a report accepts: 1970 to the end of 2999 (what the business-hours clock and
#: ISO 8601 output both handle).
_EARLIEST, _LATEST = 0.0, 32_503_680_000.0


@dataclass(frozen=True, slots=True)
class Period:
    since: float
    until: float


def period(
    since: str | None,
    until: str | None,
    *,
    names: tuple[str, str] = ("since", "until"),
    now: float | None = None,
) -> Period:
    """The period of ``since`` and ``until`` (ISO 8601 with an offset, or epoch seconds):
    until defaults to now, since to 30 days before until. InklingError, naming the value
    by ``names`` (``--since`` on the command line), for one that is not a time, outside
    1970-2999, or a since not before until."""
    end = _time(until, names[1]) if until is not None else (now if now is not None else time.time())
    start = _time(since, names[0]) if since is not None else end - DEFAULT_DAYS * _DAY
    if not start < end:
        raise InklingError(f"{names[0]} must be before {names[1]}")
    return Period(max(start, _EARLIEST), end)


def _time(text: str, name: str) -> float:
    value = parse_time(text, name)
    if not _EARLIEST <= value <= _LATEST:
        raise InklingError(f"{name} must be between 1970 and 2999, not {text!r}")
    return value
