"""Opens by what made them: why the raw open rate misleads.

Every open on the solved tickets' mail, whatever its verdict, in one bucket each: every
open judged a person's is ``person`` (through Gmail's proxy too: Gmail fetches when the
person opens); the others are named by their agent (Apple's proxy, Gmail's prefetch,
scanners, ...), and ``unknown`` holds those nobody can tell.
"""

from __future__ import annotations

from collections.abc import Iterable

from inkling.model import Agent

PERSON = "person"
UNKNOWN = "unknown"
SCANNER = "scanner"
#: Every bucket, always present (0 when empty), so that charts keep their series.
BUCKETS = (
    PERSON,
    Agent.APPLE_MPP.value,
    Agent.GMAIL_PROXY.value,
    Agent.GMAIL_PREFETCH.value,
    Agent.YAHOO_PROXY.value,
    Agent.PREFETCH.value,
    SCANNER,
    Agent.LINK_PREVIEW.value,
    Agent.SCRIPT.value,
    UNKNOWN,
)
_NAMED = frozenset(BUCKETS) - {PERSON, UNKNOWN}


def bucket(verdict: str, agent: str | None) -> str:
    """The bucket of an open judged ``verdict`` and made by ``agent``."""
    if verdict == "human":
        return PERSON
    name = agent or ""
    if name.startswith(SCANNER):  # scanner, scanner:safelinks, scanner:proofpoint, ...
        return SCANNER
    if name in _NAMED:
        return name
    # A machine the classifier did not name is a program, as FALLBACK_AGENT says.
    return Agent.SCRIPT.value if verdict == "machine" else UNKNOWN


def opens_by_agent(rows: Iterable[tuple[str, str | None, int]]) -> dict[str, int]:
    """Opens per bucket from (verdict, agent, count) rows."""
    counts = dict.fromkeys(BUCKETS, 0)
    for verdict, agent, count in rows:
        counts[bucket(verdict, agent)] += int(count)
    return counts
