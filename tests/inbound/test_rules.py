"""The rule tables: sisimai's reason vocabulary only, and every rule says where it is from."""

from __future__ import annotations

import tomllib
from importlib import resources

import inkling.inbound
from inkling.inbound.rules import autoreply_rules, bounce_rules

SISIMAI_REASONS = {
    "userunknown",
    "hostunknown",
    "mailboxfull",
    "filtered",
    "rejected",
    "blocked",
    "expired",
    "authfailure",
    "networkerror",
    "requireptr",
    "suspend",
    "policyviolation",
    "spamdetected",
    "systemerror",
    "notaccept",
    "securityerror",
    "mailererror",
    "notcompliantrfc",
    "norelaying",
    "onhold",
    "hasmoved",
    "toomanyconn",
    "exceedlimit",
    "mesgtoobig",
    "badreputation",
    "contenterror",
    "virusdetected",
    "syntaxerror",
    "speeding",
    "systemfull",
    "failedstarttls",
    "suppressed",
    "undefined",
}


def _table(name: str) -> dict[str, object]:
    return tomllib.loads(resources.files(inkling.inbound).joinpath(name).read_text("utf-8"))


def test_reasons_are_sisimai_words() -> None:
    rules = bounce_rules()
    assert {rule.reason for rule in rules.reasons} <= SISIMAI_REASONS
    assert set(rules.status_reason.values()) <= SISIMAI_REASONS
    assert set(rules.reason_status) <= SISIMAI_REASONS


def test_every_rule_names_its_source() -> None:
    for name in ("bounce.toml", "autoreply.toml"):
        for key, entries in _table(name).items():
            if isinstance(entries, list):
                for entry in entries:
                    assert entry.get("source"), f"{name} [[{key}]] without source: {entry}"


def test_tables_compile() -> None:
    assert autoreply_rules().months["dezember"] == 12
    assert bounce_rules().failure.search("could not be delivered")


def test_phrase_tables_are_lower_case() -> None:
    """They are matched against lower-cased text (rules.flat), without IGNORECASE."""
    import re

    for name, keys in (
        ("bounce.toml", ("failure", "delay", "permanent", "reason")),
        ("autoreply.toml", ("body", "until")),
    ):
        table = _table(name)
        for key in keys:
            for entry in table[key]:  # type: ignore[attr-defined]
                for pattern in entry.get("patterns", [entry.get("pattern", "")]):
                    letters = re.sub(r"\\[A-Za-z]", "", pattern)
                    assert letters == letters.lower(), f"{name} [[{key}]]: {pattern}"
