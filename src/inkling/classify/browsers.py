"""How far behind its time a browser is.

Chrome, Edge and Firefox update themselves every four weeks, so the major version a
person runs follows the calendar closely (``browsers.toml`` holds the calendars, and the
last version each old operating system got, which the people still on it run). Defender
Safe Links shows outdated Chrome versions (57, 79, 80, 96, 101 have been seen:
research/signals.md) long after they were current. A browser far behind the hit's date is
weight toward a machine, never proof: some people run old machines.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from importlib import resources

_DAY = 86400
_RETIRED = re.compile(r"MSIE \d|Trident/")
#: Browsers that ship an older Chromium on purpose: their Chrome token is no clue.
_OWN_SCHEDULE = re.compile(r"SamsungBrowser/|UCBrowser/|YaBrowser/|MiuiBrowser/|HuaweiBrowser/")
#: Versions behind before it counts: about a year and a half of updates missed.
STALE_VERSIONS = 20


@dataclass(frozen=True, slots=True)
class _Calendar:
    """One engine's releases (``browsers.toml``): ``version`` came out at ``released``
    (Unix seconds), one major every ``days`` since; ``last_for`` the platforms it stopped
    at, with their last version."""

    pattern: re.Pattern[str]
    version: int
    released: float
    days: float
    last_for: tuple[tuple[re.Pattern[str], int], ...]

    def expected(self, user_agent: str, ts: float) -> int:
        """The major version a person running ``user_agent`` would have at ``ts``."""
        current = self.version + int((ts - self.released) / (self.days * _DAY))
        for platform, last in self.last_for:
            if platform.search(user_agent):
                return min(current, last)
        return current


@cache
def _calendars() -> tuple[_Calendar, ...]:
    """The calendars of the shipped ``browsers.toml``."""
    text = resources.files(__package__).joinpath("browsers.toml").read_text("utf-8")
    table = tomllib.loads(text)
    frozen: dict[str, list[tuple[re.Pattern[str], int]]] = {}
    for row in table["last_for_platform"]:
        frozen.setdefault(row["tokens"], []).append((re.compile(row["platform"]), row["last"]))
    return tuple(
        _Calendar(
            re.compile(row["tokens"]),
            row["version"],
            _midnight(row["released"]),
            row["days"],
            tuple(frozen.get(row["tokens"], ())),
        )
        for row in table["calendar"]
    )


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def staleness(user_agent: str, ts: float) -> str | None:
    """Why ``user_agent`` is outdated at ``ts``, or None if it is not (or cannot tell)."""
    return _staleness(user_agent, int(ts // _DAY) * _DAY)


@lru_cache(maxsize=4096)
def _staleness(user_agent: str, ts: float) -> str | None:
    """``staleness`` on the day ``ts`` starts (a version is as stale all day long)."""
    if _RETIRED.search(user_agent):
        return "the browser is Internet Explorer, retired in 2022"
    if _OWN_SCHEDULE.search(user_agent):
        return None
    for calendar in _calendars():
        found = calendar.pattern.search(user_agent)
        if found is None:
            continue
        behind = calendar.expected(user_agent, ts) - int(found.group(1))
        if behind >= STALE_VERSIONS:
            name = found.group(0).split("/")[0]
            return f"the browser is {name} {found.group(1)}, about {behind} versions out of date"
        return None
    return None
