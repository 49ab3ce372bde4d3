"""The rule tables: sisimai's reason vocabulary only, and every rule says where it is from."""

from __future__ import annotations

import tomllib
from importlib import resources

import inkling.inbound
from inkling.inbound.rules import autoreply_rules, bounce_rules, reason_rules

# sisimai 4.25.15's vocabulary (lib/Sisimai/Reason.pm `index`, and the reasons that are no
# failure), the version the stored labels come from.
SISIMAI_REASONS = {
    "blocked", "contenterror", "exceedlimit", "expired", "filtered", "hasmoved",
    "hostunknown", "mailboxfull", "mailererror", "mesgtoobig", "networkerror", "notaccept",
    "onhold", "rejected", "norelaying", "spamdetected", "virusdetected", "policyviolation",
    "securityerror", "suspend", "systemerror", "systemfull", "toomanyconn", "userunknown",
    "syntaxerror", "delivered", "feedback", "undefined", "vacation",
}  # fmt: skip
#: The words sisimai 5 splits from the above (splits.toml), which the contract uses.
SISIMAI_5_SPLITS = {"authfailure", "requireptr", "badreputation"}


def _table(name: str) -> dict[str, object]:
    return tomllib.loads(resources.files(inkling.inbound).joinpath(name).read_text("utf-8"))


def test_reasons_are_sisimai_words() -> None:
    rules = bounce_rules()
    assert {rule.reason for rule in rules.reasons} <= SISIMAI_REASONS
    assert set(rules.reason_status) <= SISIMAI_REASONS
    reasons = reason_rules()
    assert set(reasons.vocabulary) == SISIMAI_REASONS | SISIMAI_5_SPLITS
    assert {split.reason for split in reasons.splits} == SISIMAI_5_SPLITS
    for split in reasons.splits:
        assert split.parents <= SISIMAI_REASONS
    assert set(reasons.status.values()) <= SISIMAI_REASONS
    assert set(reasons.phrases) <= SISIMAI_REASONS
    assert set(reasons.first) | set(reasons.second) | reasons.retry <= SISIMAI_REASONS


def test_every_reason_says_whether_it_is_hard_and_who_can_fix_it() -> None:
    vocabulary = reason_rules().vocabulary
    hard = {name for name, reason in vocabulary.items() if reason.hard == "always"}
    assert hard == {"userunknown", "hostunknown", "hasmoved"}
    assert vocabulary["notaccept"].hard == "permanent"
    owners = {reason.owner for reason in vocabulary.values()}
    assert owners == {"agent", "customer", "sender", "transient"}
    entries = _table("reasons.toml")["reason"]
    assert isinstance(entries, dict)
    for name, entry in entries.items():
        assert entry.get("source") and entry.get("meaning"), name


def test_every_rule_names_its_source() -> None:
    for name in ("bounce.toml", "autoreply.toml", "phrases.toml", "vendors.toml", "splits.toml"):
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
