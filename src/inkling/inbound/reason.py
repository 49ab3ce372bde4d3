"""Why a delivery failed: one reason word of sisimai's vocabulary.

The reason is read the way sisimai reads it (lib/Sisimai/Reason.pm, 4.25.15), so that
Inkling and the reference bounce parser give the same word for the same notice:

0. a vendor's own table (``vendors.toml``: Office 365's codes, Exchange's RESOLVER tokens,
   Domino's and IMail's phrases), when the notice carries that vendor's signature;
1. reasons in ``order.first`` are tried one by one: a reason holds when the status code
   names it or the failure's words hold one of its phrases, with the refused SMTP command
   deciding between look-alikes (a "user unknown" refused after DATA, or with no command
   named, is a content filter's: ``filtered``; refused at RCPT, or with a X.1.1 code, the
   mailbox is missing: ``userunknown``);
2. a reason the status code names firmly (not one of ``order.retry``) stands;
3. reasons in ``order.second`` are tried by their words; then the code's class (X.6 content,
   X.7 security), a 50x reply (syntax), a delay notice (expired);
4. Inkling's own phrase table (``bounce.toml``: other languages, newer provider replies);
5. ``onhold`` when the notice gives a diagnostic nothing above reads, else ``undefined``.

The tables are data (``reasons.toml``, ``phrases.toml``, ``status.toml``,
``vendors.toml``); this module is only the order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inkling.inbound.rules import ReasonRules, VendorRules, bounce_rules, reason_rules

# Commands sent before DATA: a refusal there cannot be about the message's content.
_BEFORE_DATA = frozenset({"CONN", "EHLO", "HELO", "MAIL", "RCPT"})
_GREETING = frozenset({"CONN", "EHLO", "HELO"})
# Reasons whose phrases, beside a X.1.1 code, say the mailbox exists after all.
_NOT_MISSING = ("norelaying", "blocked", "mailboxfull", "hasmoved", "rejected", "notaccept")


@dataclass(frozen=True, slots=True)
class Failure:
    """What a reason is read from: the words (``flat``), the status code, the refused
    command, the report's Action and the SMTP reply code, each ``None`` when not given."""

    text: str
    status: str | None = None
    command: str | None = None
    action: str | None = None
    reply: str | None = None
    has_diagnostic: bool = True
    vendors: tuple[VendorRules, ...] = ()

    @property
    def named(self) -> str:
        """The reason the status code names ('' when it names none)."""
        return reason_rules().status.get(self.status or "", "")


def find_vendors(text: str) -> tuple[VendorRules, ...]:
    """The vendors whose signature the notice (``flat`` text) carries."""
    return tuple(v for v in reason_rules().vendors if v.signature.search(text))


def find_command(text: str) -> str | None:
    """The SMTP command a notice says was refused (``bounce.toml`` [[command]])."""
    for rule in bounce_rules().commands:
        if rule.pattern.search(text):
            return rule.command
    return None


def reason_of(failure: Failure) -> str:
    """The reason word for ``failure`` (see the module docstring for the order)."""
    rules = reason_rules()
    for vendor in failure.vendors:
        said = vendor.reason(failure.status, failure.text)
        if said:
            return said
    for reason in rules.first:
        if _FIRST.get(reason, _named_or_said)(failure, reason, rules):
            return reason
    found = _by_words(failure, rules) or _own_phrases(failure.text)
    if found:
        return found
    return "onhold" if failure.has_diagnostic else "undefined"


def _by_words(failure: Failure, rules: ReasonRules) -> str | None:
    """sisimai's second pass (``anotherone``): the code's firm reason, then the words."""
    named = failure.named
    if named and named not in rules.retry and named != "expired":
        return named
    for reason in rules.second:
        if rules.says(reason, failure.text):
            return reason
    if named:
        return named
    status = failure.status or ""
    if status[1:3] == ".6":
        return "contenterror"
    if status[1:3] == ".7":
        return "securityerror"
    if failure.reply and failure.reply[:2] in {"50"} and failure.reply[2] in "01234567":
        return "syntaxerror"
    if failure.action == "delayed":
        return "expired"
    return None


def _own_phrases(text: str) -> str | None:
    """Inkling's own reason table, for what sisimai's phrases do not cover."""
    for rule in bounce_rules().reasons:
        if rule.pattern.search(text):
            return rule.reason
    return None


def _named_or_said(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    return failure.named == reason or rules.says(reason, failure.text)


def _said(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    return rules.says(reason, failure.text)


def _mesgtoobig(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    if failure.named == reason:
        return True
    if failure.named == "exceedlimit" or failure.status == "5.2.3":
        return False
    return rules.says(reason, failure.text)


def _norelaying(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    return failure.command not in _GREETING and rules.says(reason, failure.text)


def _userunknown(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    if failure.named == "userunknown":
        return not any(rules.says(other, failure.text) for other in _NOT_MISSING)
    if failure.named == "suspend":
        return False
    return failure.command == "RCPT" and rules.says(reason, failure.text)


def _filtered(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    if failure.named == "suspend":
        return False
    said = rules.says(reason, failure.text) or rules.says("userunknown", failure.text)
    if failure.named == "filtered":
        return said
    return failure.command not in _BEFORE_DATA and said


def _rejected(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    named = failure.named or "undefined"
    if named == reason:
        return True
    said = rules.says(reason, failure.text)
    if failure.command == "MAIL":
        return said
    if failure.command == "DATA":
        return named != "userunknown" and said
    return named in {"onhold", "undefined", "securityerror", "systemerror"} and said


def _hostunknown(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    if failure.named == reason:
        return not rules.says("networkerror", failure.text)
    return rules.says(reason, failure.text)


def _spamdetected(failure: Failure, reason: str, rules: ReasonRules) -> bool:
    if failure.named == reason:
        return True
    return failure.command not in _BEFORE_DATA and rules.says(reason, failure.text)


_Check = Callable[[Failure, str, ReasonRules], bool]
#: How each reason of ``order.first`` is checked, after sisimai's ``true`` methods.
_FIRST: dict[str, _Check] = {
    "mesgtoobig": _mesgtoobig,
    "suspend": _said,
    "hasmoved": _said,
    "norelaying": _norelaying,
    "userunknown": _userunknown,
    "filtered": _filtered,
    "rejected": _rejected,
    "hostunknown": _hostunknown,
    "spamdetected": _spamdetected,
}
