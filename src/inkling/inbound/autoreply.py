"""Automatic replies (RFC 3834): who answered without a person, and until when they are away.

Headers decide first (``Auto-Submitted``, ``X-Autoreply``, Exchange's markers...), then an
out-of-office subject. The kind is ``vacation`` when the subject or the text says someone is
away, else ``auto`` (acknowledgements, "this mailbox is not monitored"). Tables with their
sources are in ``autoreply.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.message import Message
from email.utils import parsedate_to_datetime

from inkling.inbound import mime
from inkling.inbound.dates import return_date
from inkling.inbound.model import AutoReply, AutoReplyKind
from inkling.inbound.rules import autoreply_rules, flat

_REPLY_PREFIXES = frozenset({"re", "aw", "sv", "antw", "fw", "fwd", "wg", "tr", "rif", "r"})
_BODY_CHARS = 6000  # an out-of-office note says it in its first lines


@dataclass(frozen=True, slots=True)
class AutoReplyReading:
    reply: AutoReply
    evidence: tuple[str, ...]


def read(message: Message) -> AutoReplyReading | None:
    """The automatic reply this message is, or ``None`` when nothing says it is one."""
    rules = autoreply_rules()
    evidence = [
        f"{rule.name}: {mime.header(message, rule.name)[:60]}"
        for rule in rules.headers
        if rule.pattern.search(mime.header(message, rule.name))
    ]
    subject = " ".join(_strip_prefixes(mime.header(message, "Subject")).split())
    subject_kind = None
    for rule in rules.subjects:
        # At the start of the subject it is the responder's prefix ("Automatic reply: ...");
        # elsewhere it only counts when a header already says the mail is automatic.
        match = rule.pattern.match(subject) or (evidence and rule.pattern.search(subject))
        if match:
            subject_kind = rule.kind
            evidence.append(f"subject {subject[:60]!r}")
            break
    if not evidence:
        return None
    text = _body(message)
    away = rules.away.search(flat(text))
    kind: AutoReplyKind = "vacation" if subject_kind == "vacation" or away else "auto"
    if away:
        evidence.append(f"says {away.group(0)!r}")
    until = return_date(text, _sent(message)) if kind == "vacation" else None
    return AutoReplyReading(AutoReply(kind, until), tuple(evidence))


def _strip_prefixes(subject: str) -> str:
    """Subject without a leading "Re:"/"AW:"/"Fwd:" that some responders keep."""
    words = subject.strip()
    for _ in range(3):
        head, sep, rest = words.partition(":")
        if sep and head.strip().lower() in _REPLY_PREFIXES:
            words = rest.strip()
    return words


def _body(message: Message) -> str:
    texts = []
    for part in mime.own_parts(message):
        if part.get_content_maintype() == "text":
            texts.append(mime.part_text(part))
            if part.get_content_subtype() == "plain":
                break  # the HTML alternative says the same
    return "\n".join(texts)[:_BODY_CHARS]


def _sent(message: Message) -> date | None:
    try:
        return parsedate_to_datetime(mime.header(message, "Date")).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
