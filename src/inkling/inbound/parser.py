"""``parse_message``: one inbound mail (bytes) to what it is.

The order matters and goes from the most explicit evidence to the least: machine-readable
reports (read receipt, abuse report, delivery report), then failure notices in words, then
automatic replies, then a person's reply, else ``other``. Malformed mail is data: nothing
here raises on any input; what was wrong is listed in ``defects``.
"""

from __future__ import annotations

from email.message import Message

from inkling.inbound import arf, autoreply, bounce, budget, dsn, mdn, mime, thread
from inkling.inbound.model import Parsed
from inkling.inbound.rules import bounce_rules, flat

_REPORT_KINDS = frozenset({"mdn", "bounce", "complaint", "delivered"})


def parse_message(raw: bytes) -> Parsed:
    """Classify one inbound message. Never raises; see ``Parsed`` for the answer."""
    try:
        message, defects = mime.load(raw)
    except Exception as exc:  # noqa: BLE001 (the stdlib parser is lenient, but input is hostile)
        return Parsed("other", defects=(f"not parseable as mail: {type(exc).__name__}",))
    found = budget.defects(defects)
    try:
        return _classify(message, found)
    except RecursionError:
        return Parsed("other", defects=(*found, "MIME structure nested too deeply"))
    except Exception as exc:  # noqa: BLE001 (a bug must cost one message, not the batch)
        return Parsed("other", defects=(*found, f"could not be read: {type(exc).__name__}"))


def _classify(message: Message, defects: tuple[str, ...], depth: int = 0) -> Parsed:
    report = _from_report(message, defects)
    if report is not None:
        return report
    wrapped = _wrapped(message)
    if wrapped is not None and depth < 3:
        inner = _classify(wrapped, defects, depth + 1)
        if inner.kind in _REPORT_KINDS:
            return inner
    words = bounce.read_words(message)
    if words is not None:
        return _bounce_answer(words, defects)
    auto = autoreply.read(message)
    if auto is not None:
        return Parsed(
            "autoreply",
            in_reply_to=thread.parent(message),
            autoreply=auto.reply,
            evidence=auto.evidence,
            defects=defects,
        )
    parent = thread.parent(message)
    if parent:
        return Parsed("reply", in_reply_to=parent, evidence=("answers a thread",), defects=defects)
    return Parsed("other", defects=defects)


def _wrapped(message: Message) -> Message | None:
    """The one mail inside a wrapper that adds no words of its own.

    Virus scanners and gateways re-wrap a notice as an attachment of a mail that says
    nothing about delivery (an empty body, a disclaimer): when the one mail inside is a
    report, it is the message.
    """
    mails = {"message/rfc822", "message/global"}
    enclosed = [p for p in mime.own_tree(message) if p.get_content_type() in mails]
    if len(enclosed) != 1:
        return None
    rules = bounce_rules()
    for part in mime.own_parts(message):
        text = flat(mime.part_text(part))
        if rules.failure.search(text) or rules.delay.search(text):
            return None
    inside = mime.children(enclosed[0])
    return inside[0] if inside else None


def _from_report(message: Message, defects: tuple[str, ...]) -> Parsed | None:
    """Read receipts, abuse reports and delivery reports (multipart/report and kin)."""
    if not any(p.get_content_type() in mime.REPORT_TYPES for p in mime.own_tree(message)):
        return None
    part = mdn.find_part(message)
    if part is not None:
        receipt = mdn.read(message, part)
        return Parsed(
            "mdn",
            in_reply_to=receipt.in_reply_to,
            mdn=receipt.mdn,
            evidence=("disposition notification (RFC 8098)",),
            defects=defects,
        )
    part = arf.find_part(message)
    if part is not None:
        return Parsed(
            "complaint",
            in_reply_to=arf.original_id(message),
            evidence=("abuse report (RFC 5965)",),
            defects=defects,
        )
    part = dsn.find_part(message)
    if part is not None:
        reading = bounce.read_report(message, part)
        if reading is not None:
            return _bounce_answer(reading, defects)
    return None


def _bounce_answer(reading: bounce.BounceReading, defects: tuple[str, ...]) -> Parsed:
    return Parsed(
        "delivered" if reading.delivered else "bounce",
        in_reply_to=reading.in_reply_to,
        bounce=reading.bounce,
        evidence=reading.evidence,
        defects=defects,
    )
