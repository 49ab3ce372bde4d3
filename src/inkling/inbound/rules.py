"""The rule tables (``bounce.toml``, ``reasons.toml``, ``phrases.toml``, ``status.toml``,
``vendors.toml``, ``autoreply.toml``), read and compiled once.

Rules are data with their sources so that a support lead can read why a mail was called a
bounce, and so that adding a vendor's phrase is a one-line change, not new code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from inkling.inbound.model import Owner

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
    reason_status: dict[str, str]
    commands: tuple[CommandRule, ...]


@dataclass(frozen=True, slots=True)
class CommandRule:
    command: str  # "RCPT", "DATA", "MAIL", "EHLO", "CONN"
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Reason:
    """One word of the vocabulary: whether it is hard, who can fix it, what it means.

    ``hard`` is "always", "never" or "permanent" (hard only when the failure is given with a
    5.x.x / 5xx code: sisimai's ``notaccept``).
    """

    name: str
    hard: Literal["always", "never", "permanent"]
    owner: Owner
    meaning: str


@dataclass(frozen=True, slots=True)
class VendorRules:
    """One vendor's own codes and error tokens (``vendors.toml``), for its notices only."""

    name: str
    signature: re.Pattern[str]
    status: tuple[tuple[re.Pattern[str], str], ...]
    phrases: tuple[tuple[re.Pattern[str], str], ...]

    def reason(self, status: str | None, text: str) -> str | None:
        """The reason this vendor's table gives for ``status`` or ``text``, if any."""
        for pattern, reason in self.status:
            if status and pattern.fullmatch(status):
                return reason
        for pattern, reason in self.phrases:
            if pattern.search(text):
                return reason
        return None


@dataclass(frozen=True, slots=True)
class ReasonRules:
    """sisimai's phrases and codes for a bounce's reason (see ``reasons.toml``).

    ``phrases`` holds one compiled pattern a reason (``phrases.toml``); ``status`` the reason a
    whole RFC 3463 code names (``status.toml``); ``first``, ``second`` and ``retry`` the order
    in which reasons are tried and the codes' weak reasons.
    """

    vocabulary: dict[str, Reason]
    phrases: dict[str, re.Pattern[str]]
    unless: dict[str, re.Pattern[str]]
    status: dict[str, str]
    first: tuple[str, ...]
    second: tuple[str, ...]
    retry: frozenset[str]
    vendors: tuple[VendorRules, ...]
    splits: tuple[Split, ...] = ()

    def narrowed(self, reason: str, status: str | None, text: str) -> str:
        """The narrower word sisimai 5 gives ``reason`` here, or ``reason`` itself
        (``splits.toml``); ``text`` as ``flat`` makes it."""
        for split in self.splits:
            if reason in split.parents and (status in split.status or split.pattern.search(text)):
                return split.reason
        return reason

    def says(self, reason: str, text: str) -> bool:
        """Whether ``text`` (as ``flat`` makes it) holds one of ``reason``'s phrases."""
        pattern = self.phrases.get(reason)
        if pattern is None or pattern.search(text) is None:
            return False
        unless = self.unless.get(reason)
        return unless is None or unless.search(text) is None


@dataclass(frozen=True, slots=True)
class Split:
    """A reason sisimai 5 tells apart from the broader ones (``parents``) it was under."""

    reason: str
    parents: frozenset[str]
    status: frozenset[str]
    pattern: re.Pattern[str]


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


def _either(patterns: list[str]) -> re.Pattern[str]:
    """One pattern (for ``flat`` text) that matches when any of ``patterns`` does."""
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), _FLAT)


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
        reason_status=dict(table["reason_status"]),
        commands=tuple(
            CommandRule(e["command"], re.compile(e["pattern"], _FLAT)) for e in table["command"]
        ),
    )


@cache
def reason_rules() -> ReasonRules:
    vocabulary = {
        name: Reason(name, entry["hard"], entry["owner"], entry["meaning"])
        for name, entry in _table("reasons.toml")["reason"].items()
    }
    order = _table("reasons.toml")["order"]
    entries = _table("phrases.toml")["phrases"]
    phrases = {entry["reason"]: _either(entry["patterns"]) for entry in entries}
    unless = {entry["reason"]: _either(entry["unless"]) for entry in entries if "unless" in entry}
    return ReasonRules(
        vocabulary=vocabulary,
        phrases=phrases,
        unless=unless,
        status=dict(_table("status.toml")["status"]),
        first=tuple(order["first"]),
        second=tuple(order["second"]),
        retry=frozenset(order["retry"]),
        vendors=tuple(_vendor(entry) for entry in _table("vendors.toml")["vendor"]),
        splits=tuple(_split(entry) for entry in _table("splits.toml")["split"]),
    )


def _split(entry: dict[str, Any]) -> Split:
    return Split(
        reason=entry["reason"],
        parents=frozenset(entry["parents"]),
        status=frozenset(entry["status"]),
        pattern=_either(entry["patterns"]),
    )


def _vendor(entry: dict[str, Any]) -> VendorRules:
    def pairs(table: dict[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
        return tuple((re.compile(key, _FLAT), reason) for key, reason in table.items())

    return VendorRules(
        name=entry["name"],
        signature=re.compile(entry["signature"], _FLAT),
        status=pairs(entry.get("status", {})),
        phrases=pairs(entry.get("phrases", {})),
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
