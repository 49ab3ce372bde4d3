"""From a DSN or a failure notice in words to Inkling's bounce (or delivered) answer."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from inkling.inbound import dsn, mime, ndn, thread
from inkling.inbound.diagnosis import Diagnosis, diagnose
from inkling.inbound.model import Bounce


@dataclass(frozen=True, slots=True)
class BounceReading:
    """What a delivery report said: a bounce, or a success notice (``delivered``)."""

    bounce: Bounce | None
    delivered: bool
    in_reply_to: str | None
    evidence: tuple[str, ...]


def read_report(message: Message, part: Message) -> BounceReading | None:
    """An RFC 3464 report; ``None`` when it names no recipient (then read it as words)."""
    report = dsn.read(part)
    if not report.recipients:
        return None
    found = ndn.sections(message)
    in_reply_to = _original_id(message, report.message_fields, found)
    failed = [r for r in report.recipients if r.action == dsn.FAILED]
    delayed = [r for r in report.recipients if r.action == dsn.DELAYED]
    unknown = [
        r for r in report.recipients if r.action not in dsn.SUCCESS | {dsn.FAILED, dsn.DELAYED}
    ]
    chosen = failed or delayed or unknown
    if not chosen:
        actions = ", ".join(sorted({r.action for r in report.recipients}))
        return BounceReading(None, True, in_reply_to, (f"delivery report: Action {actions}",))
    first = chosen[0]
    action = first.action if first.action in {dsn.FAILED, dsn.DELAYED} else None
    text = "\n".join([first.diagnostic, found.own])
    diagnosis = diagnose(text, status=first.status, action=action, diagnostic=first.diagnostic)
    recipients = [address for r in chosen for address in r.addresses]
    bounce = _bounce(diagnosis, recipients)
    evidence = (f"delivery report (RFC 3464): Action {first.action or 'missing'}",)
    return BounceReading(bounce, False, in_reply_to, evidence)


def read_words(message: Message) -> BounceReading | None:
    """A failure notice without a usable report; ``None`` when it is not one."""
    found = ndn.sections(message)
    evidence = ndn.looks_like_bounce(message, found.own)
    if not evidence:
        return None
    recipients = ndn.recipients(message, found)
    before, after = ndn.recipient_text(found.own, recipients)
    diagnosis = diagnose(found.own, diagnostic=after, diagnostic_line=before)
    bounce = _bounce(diagnosis, recipients)
    in_reply_to = _original_id(message, {}, found)
    return BounceReading(bounce, False, in_reply_to, tuple(evidence))


def _bounce(diagnosis: Diagnosis, recipients: list[str]) -> Bounce:
    return Bounce(
        final=diagnosis.final,
        bounce_class=diagnosis.bounce_class,
        status=diagnosis.status,
        reason=diagnosis.reason,
        owner=diagnosis.owner,
        recipients=tuple(recipients),
    )


def _original_id(message: Message, fields: dict[str, str], found: ndn.Sections) -> str | None:
    own_id = mime.header(message, "Message-ID").strip()
    written = fields.get("original-message-id", "").strip()
    if written:
        return written
    from_copy = ndn.original_message_id(found, own_id)
    if from_copy:
        return from_copy
    # Gmail and others thread their notices onto the original mail.
    return thread.parent(message)
