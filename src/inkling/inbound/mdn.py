"""RFC 8098 message disposition notifications (read receipts).

``Disposition: manual-action/MDN-sent-manually; displayed`` says a person chose to send
the receipt for a displayed mail; ``automatic-action`` means the client or server sent it
by itself (Exchange does, on open), which says less about a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from inkling.inbound import fields, mime, thread
from inkling.inbound.model import Mdn

MDN_TYPES = frozenset(
    {"message/disposition-notification", "message/global-disposition-notification"}
)
_TYPE = re.compile(r"^\s*[\w-]*/[\w-]*\s*;\s*([a-z-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MdnReading:
    mdn: Mdn
    in_reply_to: str | None


def find_part(message: Message) -> Message | None:
    for part in mime.own_tree(message):
        if part.get_content_type() in MDN_TYPES:
            return part
    return None


def read(message: Message, part: Message) -> MdnReading:
    """The disposition and the original Message-ID (field, returned copy, or thread)."""
    merged: fields.Block = {}
    for block in fields.blocks(mime.report_text(part)):
        for name, value in block.items():
            merged.setdefault(name, value)
    disposition = merged.get("disposition", "")
    match = _TYPE.match(disposition)
    kind = match.group(1).lower() if match else "unknown"
    # RFC 8098 §3.2.6.1: the action mode is "manual-action" or "automatic-action"
    mode = disposition.split("/", 1)[0].strip().lower()
    automatic = mode == "automatic-action"
    original = thread.message_id(merged.get("original-message-id", ""))
    if original is None:
        original = thread.enclosed_id(message)
    if original is None:
        original = thread.parent(message)
    return MdnReading(Mdn(kind, automatic), original)
