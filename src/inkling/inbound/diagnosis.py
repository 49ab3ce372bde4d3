"""What a delivery failure says: status code, reason, final or not, hard or soft, owner.

Four answers, each to its own support question (DESIGN.md "Inbound"):

- ``final``: will the mail system still try? ``False`` for a delay notice (the report's
  Action ``delayed``, a 4.x.x code and nothing saying it gave up), else ``True``: the mail
  came back and nobody will retry it;
- ``class``: is the address itself wrong? ``hard`` for sisimai's hard reasons
  (userunknown, hostunknown, hasmoved; notaccept given with a 5.x.x code), else ``soft``:
  the address may work, this mail did not get through (``reasons.toml``);
- ``reason``: why, in sisimai's words (``reason.py``);
- ``owner``: who can fix it: ``agent``, ``customer``, ``sender`` or ``transient``
  (``reasons.toml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inkling.inbound.model import BounceClass, Owner
from inkling.inbound.reason import Failure, find_command, find_vendors, reason_of
from inkling.inbound.rules import BounceRules, bounce_rules, flat, reason_rules

# RFC 3463 codes: class 2/4/5, subject 0-7, detail 0-999. Not part of a version number
# or an IP address (no digit or dot around it).
STATUS = re.compile(r"(?<![\d.])([245])\.([0-7])\.(\d{1,3})(?!\d|\.\d)")
# An SMTP reply code at the start of a reply ("550 ", "550-"), not a phone number.
REPLY_CODE = re.compile(r"(?<![\d.+/:-])([45][0-5]\d)(?=[ -](?!\d))")
# Lines that echo the original mail's header ("Subject: ...") say nothing about the
# failure, and their words ("virus", "spam" in a subject) must not choose the reason.
_ECHO = re.compile(
    r"^[ \t>]*(subject|to|cc|bcc|from|sent|date|betreff|an|von|objet|asunto|oggetto|"
    r"assunto|onderwerp|message-id|x-[\w-]+)[ \t]*:.*$",
    re.IGNORECASE | re.MULTILINE,
)

_WORD = re.compile(r"[^\W\d_]{2,}")  # a word of letters: a diagnostic that says something


def collapse(text: str) -> str:
    """Text with header echoes dropped, as phrase tables read it (``rules.flat``)."""
    return flat(_ECHO.sub(" ", text))


def find_status(text: str) -> str | None:
    """The first failure status code (4.x.x or 5.x.x) written in ``text``.

    A specific code beats a generic ``X.0.0`` written before it ("550 5.0.0 ... 5.1.1").
    """
    codes = [m.group(0) for m in STATUS.finditer(text) if m.group(1) != "2"]
    for code in codes:
        if not code.endswith(".0.0"):
            return code
    return codes[0] if codes else None


def find_reply_code(text: str) -> str | None:
    match = REPLY_CODE.search(text)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    final: bool
    bounce_class: BounceClass
    status: str
    reason: str
    owner: Owner


def diagnose(
    text: str,
    *,
    status: str | None = None,
    action: str | None = None,
    diagnostic: str | None = None,
    diagnostic_line: str = "",
) -> Diagnosis:
    """Read status, reason, final, class and owner from a failure's words.

    ``text`` is the bounce's own text (diagnostic codes first); ``status`` and ``action``
    come from an RFC 3464 report when there is one. ``diagnostic`` is what is said about the
    first failed recipient (its Diagnostic-Code, or the words after its address in a notice;
    ``diagnostic_line`` the words before the address on its line): it alone names the reason
    when it can.
    """
    rules = bounce_rules()
    text = collapse(text)
    written = find_status(text)
    if status is None:
        status = written
    elif status.endswith(".0.0") and written and written[0] == status[0]:
        status = written  # "Status: 5.0.0" beside "550 5.1.1 user unknown": the specific one
    reply = find_reply_code(text)
    final = _final(text, rules, status=status, reply=reply, action=action)
    said = bool(diagnostic and _WORD.search(diagnostic))
    own = collapse(f"{diagnostic_line} {diagnostic}") if said else None
    reason = _reason(text, own, status=status, action=action, reply=reply)
    reason = reason_rules().narrowed(reason, status, flat(f"{own or ''} {text}"))
    if status is None:
        digit = "5" if final else "4"
        if reply and reason in {"undefined", "onhold"}:
            status = f"{reply[0]}.0.0"
        else:
            status = f"{digit}.{rules.reason_status.get(reason, '0.0')}"
    return Diagnosis(final, _hard_or_soft(reason, status), status, reason, _owner(reason))


def _reason(
    text: str, own: str | None, *, status: str | None, action: str | None, reply: str | None
) -> str:
    """The reason from the recipient's own diagnostic when it names one, else from all the
    words; ``onhold`` (not ``undefined``) when a diagnostic says something no table reads."""
    vendors = find_vendors(f"{text} {own or ''}")
    if own:
        command = find_command(own) or find_command(text)
        failure = Failure(own, status, command, action, reply, vendors=vendors)
        found = reason_of(failure)
        if found not in {"onhold", "undefined"}:
            return found
    failure = Failure(text, status, find_command(text), action, reply, own is not None, vendors)
    return reason_of(failure)


def _hard_or_soft(reason: str, status: str) -> BounceClass:
    """``hard`` when the reason says the address itself is wrong (``reasons.toml``)."""
    entry = reason_rules().vocabulary.get(reason)
    hard = entry.hard if entry else "never"
    if hard == "always" or (hard == "permanent" and not status.startswith("4")):
        return "hard"
    return "soft"


def _owner(reason: str) -> Owner:
    entry = reason_rules().vocabulary.get(reason)
    return entry.owner if entry else "transient"


def _final(
    flat: str, rules: BounceRules, *, status: str | None, reply: str | None, action: str | None
) -> bool:
    """Whether the mail system gave up (``True``) or still tries (a delay notice)."""
    # The report's own Action is the mail system's word on it (RFC 3464 §2.3.3).
    if action == "delayed":
        return False
    if action == "failed":
        return True
    # Then what the text says in words: "permanent error", "will retry".
    if rules.permanent.search(flat):
        return True
    if rules.delay.search(flat):
        return False
    code = status or reply
    if code:
        return not code.startswith("4")
    # Nothing says: the mail came back, and a returned mail is not retried by anyone.
    return True
