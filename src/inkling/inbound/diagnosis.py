"""Why a delivery failed: the status code, the reason word and hard or soft.

``class`` answers the support question "will this mail still arrive?": ``soft`` when the
mail system is still trying (a delay notice, a 4.x.x code and nothing saying it gave up),
``hard`` when it returned the mail for good. The reason (sisimai's vocabulary) says why;
when nothing in the mail says whether the failure is final, the reason decides: sisimai's
hard reasons (userunknown, hostunknown, hasmoved, notaccept) are hard, failure notices of
any other reason are hard too, because the mail came back and nobody will retry it
(the reason still tells a support agent that, say, a full mailbox may accept mail later).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inkling.inbound.model import BounceClass
from inkling.inbound.rules import BounceRules, bounce_rules, flat

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


def find_reason(text: str, rules: BounceRules | None = None) -> str | None:
    """The reason word of the first rule (in table order) whose phrases appear."""
    rules = rules or bounce_rules()
    for rule in rules.reasons:
        if rule.pattern.search(text):
            return rule.reason
    return None


def reason_of_status(status: str | None, rules: BounceRules | None = None) -> str | None:
    if not status:
        return None
    rules = rules or bounce_rules()
    _, _, rest = status.partition(".")
    return rules.status_reason.get(rest)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    bounce_class: BounceClass
    status: str
    reason: str


def diagnose(text: str, *, status: str | None = None, action: str | None = None) -> Diagnosis:
    """Read class, status and reason from a failure's words.

    ``text`` is the bounce's own text (diagnostic codes first); ``status`` and ``action``
    come from an RFC 3464 report when there is one.
    """
    rules = bounce_rules()
    text = collapse(text)
    written = find_status(text)
    if status is None:
        status = written
    elif status.endswith(".0.0") and written and written[0] == status[0]:
        status = written  # "Status: 5.0.0" beside "550 5.1.1 user unknown": the specific one
    reply = find_reply_code(text)
    reason = find_reason(text, rules) or reason_of_status(status, rules)
    bounce_class = _class(text, rules, status=status, reply=reply, action=action, reason=reason)
    if reason is None:
        reason = "expired" if action == "delayed" and status is None else "undefined"
    if status is None:
        digit = "5" if bounce_class == "hard" else "4"
        if reply and reason == "undefined":
            status = f"{reply[0]}.0.0"
        else:
            status = f"{digit}.{rules.reason_status.get(reason, '0.0')}"
    return Diagnosis(bounce_class, status, reason)


def _class(
    flat: str,
    rules: BounceRules,
    *,
    status: str | None,
    reply: str | None,
    action: str | None,
    reason: str | None,
) -> BounceClass:
    # The report's own Action is the mail system's word on it (RFC 3464 §2.3.3).
    if action == "delayed":
        return "soft"
    if action == "failed":
        return "hard"
    # Then what the text says in words: "permanent error", "will retry".
    if rules.permanent.search(flat):
        return "hard"
    if rules.delay.search(flat):
        return "soft"
    code = status or reply
    if code:
        return "soft" if code.startswith("4") else "hard"
    # Nothing says: the mail came back, and a returned mail is not retried by anyone.
    return "hard"
