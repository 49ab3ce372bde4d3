"""RFC 5965 abuse reports (ARF): a recipient pressed "this is spam"."""

from __future__ import annotations

from email.message import Message

from inkling.inbound import mime, thread

ARF_TYPE = "message/feedback-report"


def find_part(message: Message) -> Message | None:
    for part in mime.own_tree(message):
        if part.get_content_type() == ARF_TYPE:
            return part
    return None


def original_id(message: Message) -> str | None:
    """The Message-ID of the reported mail (its returned copy or header block)."""
    return thread.enclosed_id(message) or thread.parent(message)
