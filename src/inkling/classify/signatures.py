"""User-agent signatures, read from ``signatures.toml`` (data with sources, not code).

The table is read top to bottom and the first match wins. Lookups are cached: a tracker
sees the same few hundred user agents over and over.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from inkling.errors import InklingError
from inkling.model import Agent

MATCH_KEYS = ("exact", "prefix", "contains", "regex")


@dataclass(frozen=True, slots=True)
class LateFetch:
    """What a fetch by this agent says when it comes ``after`` seconds or more after the
    mail was sent: for a proxy that may fetch in advance, a fetch long after delivery was
    not made in advance."""

    after: float
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class Signature:
    agent: Agent
    weight: float
    reason: str
    kinds: frozenset[str]
    matches: Callable[[str], bool]
    client: str | None = None
    late: LateFetch | None = None


class UserAgents:
    """The signature table, answering "what made this user agent?"."""

    def __init__(self, signatures: list[Signature]) -> None:
        self._signatures = signatures
        self.lookup = lru_cache(maxsize=4096)(self._lookup)

    @classmethod
    def load(cls, text: str | None = None) -> UserAgents:
        """The table from TOML ``text``, or the one shipped with Inkling."""
        if text is None:
            text = resources.files(__package__).joinpath("signatures.toml").read_text("utf-8")
        table = tomllib.loads(text)
        return cls([_signature(entry, n) for n, entry in enumerate(table["signature"], 1)])

    def _lookup(self, user_agent: str, kind: str) -> Signature | None:
        """The first signature matching ``user_agent`` on a ``kind`` hit, or None."""
        for signature in self._signatures:
            if kind in signature.kinds and signature.matches(user_agent):
                return signature
        return None


def _signature(entry: dict[str, object], number: int) -> Signature:
    keys = [k for k in MATCH_KEYS if k in entry]
    if len(keys) != 1:
        raise InklingError(f"signature {number} needs exactly one of {', '.join(MATCH_KEYS)}")
    pattern = str(entry[keys[0]])
    kinds = entry.get("kinds", ["open", "click"])
    assert isinstance(kinds, list)
    weight = entry["weight"]
    assert isinstance(weight, int | float)
    try:
        agent = Agent(str(entry["agent"]))
    except ValueError as exc:
        raise InklingError(f"signature {number} names an unknown agent {entry['agent']!r}") from exc
    return Signature(
        agent=agent,
        weight=float(weight),
        reason=str(entry["reason"]),
        kinds=frozenset(str(k) for k in kinds),
        matches=_matcher(keys[0], pattern),
        client=str(entry["client"]) if "client" in entry else None,
        late=_late_fetch(entry, number),
    )


def _late_fetch(entry: dict[str, object], number: int) -> LateFetch | None:
    """The signature's ``late`` table (``after``, ``weight``, ``reason``), if it has one."""
    late = entry.get("late")
    if late is None:
        return None
    if not isinstance(late, dict) or set(late) != {"after", "weight", "reason"}:
        raise InklingError(f"signature {number}: 'late' needs exactly after, weight and reason")
    after, weight = late["after"], late["weight"]
    if not isinstance(after, int | float) or not isinstance(weight, int | float):
        raise InklingError(f"signature {number}: 'late' after and weight must be numbers")
    return LateFetch(float(after), float(weight), str(late["reason"]))


def _matcher(how: str, pattern: str) -> Callable[[str], bool]:
    if how == "exact":
        return pattern.__eq__
    if how == "prefix":
        return lambda ua: ua.startswith(pattern)
    if how == "contains":
        return lambda ua: pattern in ua
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda ua: compiled.search(ua) is not None
