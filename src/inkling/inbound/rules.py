"""The rule tables (``bounce.toml``, ``autoreply.toml``), read and compiled once.

Rules are data with their sources so that a support lead can read why a mail was called a
bounce, and so that adding a vendor's phrase is a one-line change, not new code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# Phrase tables are written in lower case and matched against ``flat(text)``: Python's
# regex engine is 5-10x slower with IGNORECASE on long alternations (measured on the
# reason table), and a bounce is read in a few milliseconds only this way.
_FLAT = 0
# Header values and subjects are short: matched as written, case-insensitively.
_FLAGS = re.IGNORECASE
_FLAT_LIMIT = 20_000  # a notice says what matters in its first pages


def flat(text: str) -> str:
    """Text as phrase tables read it: lower case, white space runs made one space."""
    return " ".join(text[:_FLAT_LIMIT].split()).lower()


@dataclass(frozen=True, slots=True)
class ReasonRule:
    reason: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class BounceRules:
    """Phrases and codes for reading delivery failures (see ``bounce.toml``)."""

    subject: re.Pattern[str]
    sender: re.Pattern[str]
    failure: re.Pattern[str]
    delay: re.Pattern[str]
    permanent: re.Pattern[str]
    returned: re.Pattern[str]
    reasons: tuple[ReasonRule, ...]
    status_reason: dict[str, str]
    reason_status: dict[str, str]


@dataclass(frozen=True, slots=True)
class HeaderRule:
    name: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class SubjectRule:
    kind: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class UntilRule:
    numeric: str  # "mdy" or "dmy"
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class AutoReplyRules:
    """Headers, subjects and phrases of automatic replies (see ``autoreply.toml``)."""

    headers: tuple[HeaderRule, ...]
    subjects: tuple[SubjectRule, ...]
    away: re.Pattern[str]
    until: tuple[UntilRule, ...]
    months: dict[str, int]


def _table(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text("utf-8")
    return tomllib.loads(text)


def _any(
    entries: list[dict[str, Any]], key: str = "pattern", flags: int = _FLAGS
) -> re.Pattern[str]:
    """One regex that matches when any entry's pattern does."""
    return re.compile("|".join(f"(?:{entry['pattern']})" for entry in entries), flags)


def _compile(entry: dict[str, Any]) -> re.Pattern[str]:
    return re.compile(entry["pattern"], _FLAGS)


@cache
def bounce_rules() -> BounceRules:
    table = _table("bounce.toml")
    reasons = tuple(
        ReasonRule(entry["reason"], re.compile("|".join(entry["patterns"]), _FLAT))
        for entry in table["reason"]
    )
    return BounceRules(
        subject=_any(table["subject"]),
        sender=_any(table["sender"]),
        failure=_any(table["failure"], flags=_FLAT),
        delay=_any(table["delay"], flags=_FLAT),
        permanent=_any(table["permanent"], flags=_FLAT),
        returned=_any(table["returned"], flags=_FLAGS | re.MULTILINE),
        reasons=reasons,
        status_reason=dict(table["status_reason"]),
        reason_status=dict(table["reason_status"]),
    )


@cache
def autoreply_rules() -> AutoReplyRules:
    table = _table("autoreply.toml")
    months = {
        name.lower(): int(number) for number, names in table["months"].items() for name in names
    }
    return AutoReplyRules(
        headers=tuple(HeaderRule(e["name"], _compile(e)) for e in table["header"]),
        subjects=tuple(SubjectRule(e["kind"], _compile(e)) for e in table["subject"]),
        away=_any(table["body"], flags=_FLAT),
        until=tuple(UntilRule(e["numeric"], re.compile(e["pattern"])) for e in table["until"]),
        months=months,
    )
