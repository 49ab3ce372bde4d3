"""How far behind its time a browser is.

Chrome, Edge and Firefox update themselves every four weeks, so the major version a
person runs follows the calendar closely. Defender Safe Links shows outdated Chrome
versions (57, 79, 80, 96, 101 have been seen: research/signals.md) long after they were
current. A browser far behind the hit's date is weight toward a machine, never proof: some
people run old machines.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DAY = 86400
#: (engine token, a major release, its date as Unix seconds, days per release since):
#: Chrome 100 on 2022-03-29 and 140 on 2025-09-02, 31.3 days apart on average; Firefox
#: 100 on 2022-05-03 and 140 on 2025-06-24, 28.7 days apart (chromiumdash.appspot.com
#: schedule, whattrainisitnow.com). Edge follows Chrome's numbers.
_RELEASES = (
    (re.compile(r"(?:Chrome|CriOS|Edg|EdgA|EdgiOS)/(\d{1,6})\."), 140, 1756771200, 31.3),
    (re.compile(r"(?:Firefox|FxiOS)/(\d{1,6})\."), 140, 1750723200, 28.7),
)
_RETIRED = re.compile(r"MSIE \d|Trident/")
#: Browsers that ship an older Chromium on purpose: their Chrome token is no clue.
_OWN_SCHEDULE = re.compile(r"SamsungBrowser/|UCBrowser/|YaBrowser/|MiuiBrowser/|HuaweiBrowser/")
#: Versions behind before it counts: about a year and a half of updates missed.
STALE_VERSIONS = 20


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
    for pattern, version, released, days in _RELEASES:
        found = pattern.search(user_agent)
        if found is None:
            continue
        expected = version + int((ts - released) / (days * _DAY))
        behind = expected - int(found.group(1))
        if behind >= STALE_VERSIONS:
            name = found.group(0).split("/")[0]
            return f"the browser is {name} {found.group(1)}, about {behind} versions out of date"
        return None
    return None
