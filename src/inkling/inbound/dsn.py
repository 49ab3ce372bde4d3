"""RFC 3464 delivery status notifications (and RFC 6533's internationalised ones).

A DSN says, per recipient, what the mail system did (``Action``: failed, delayed,
delivered, relayed, expanded), with an RFC 3463 ``Status`` and often the remote server's
words (``Diagnostic-Code``). This module reads those fields; ``bounce.py`` turns them into
Inkling's answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from inkling.inbound import addresses, fields, mime
from inkling.inbound.diagnosis import STATUS

DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
FAILED = "failed"
DELAYED = "delayed"
SUCCESS = frozenset({"delivered", "relayed", "expanded"})


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One recipient's block of a DSN."""

    final: str | None
    original: str | None
    action: str
    status: str | None
    diagnostic: str

    @property
    def addresses(self) -> list[str]:
        """The address the mail was sent to: the Original-Recipient when the report gives
        one (RFC 3464 2.3.1: the address as the sender wrote it), else the Final-Recipient.
        A final address after aliasing or forwarding is not one anybody sent to, so it is
        not reported: it would name the wrong person, and match no copy."""
        address = self.original or self.final
        return [address] if address else []


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The machine-readable part of a DSN: per-message fields and one block a recipient."""

    message_fields: fields.Block
    recipients: tuple[RecipientStatus, ...]


def find_part(message: Message) -> Message | None:
    """The delivery-status part of a message, wherever the MTA put it."""
    for part in mime.own_tree(message):
        if part.get_content_type() in DSN_TYPES:
            return part
    return None


def read(part: Message) -> DeliveryReport:
    """The fields of a delivery-status part; blocks without a recipient are skipped."""
    found = fields.blocks(mime.report_text(part))
    per_message: fields.Block = {}
    recipients: list[RecipientStatus] = []
    for block in found:
        final = _address(block.get("final-recipient", ""))
        original = _address(block.get("original-recipient", ""))
        if not (final or original or "action" in block):
            per_message.update(block)
            continue
        status_match = STATUS.search(block.get("status", ""))
        recipients.append(
            RecipientStatus(
                final=final,
                original=original,
                action=block.get("action", "").strip().lower().split(" ")[0],
                status=status_match.group(0) if status_match else None,
                diagnostic=_diagnostic(block),
            )
        )
    return DeliveryReport(per_message, tuple(recipients))


def _diagnostic(block: fields.Block) -> str:
    """The remote server's words: the Diagnostic-Code, else a comment on the Status field
    ("Status: 5.0.0 (recipient reached disk quota)", RFC 822 comments as RFC 3464 allows)."""
    written = fields.typed_value(block.get("diagnostic-code", ""))
    if written.strip():
        return written
    comment = re.search(r"\((.+)\)", block.get("status", ""))
    return comment.group(1) if comment else ""


def _address(value: str) -> str | None:
    """The address of a typed recipient field; ``rfc822;<a@b>`` and ``utf-8; a@b`` alike."""
    if not value.strip():
        return None
    raw = addresses.normalise(fields.typed_value(value))
    found = addresses.find(raw)
    if found:
        return found[0]
    return raw if "@" in raw else None
