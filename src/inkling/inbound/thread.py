"""Which earlier mail an inbound mail answers (RFC 5322 §3.6.4 threading fields)."""

from __future__ import annotations

import re
from email.message import Message

from inkling.inbound import budget, mime

_MSGID = re.compile(r"<[^<>\s]+>")


def parent(message: Message) -> str | None:
    """The Message-ID a mail answers: its In-Reply-To, else the last of its References."""
    replied: list[str] = _MSGID.findall(mime.header(message, "In-Reply-To"))
    if replied:
        return replied[0]
    # The last reference is the parent, so the end of a long References field is read
    # (message ids are never encoded words: no decoding needed).
    value = message.get("References")
    tail = str(value)[-budget.HEADER_CHARS :] if value is not None else ""
    references: list[str] = _MSGID.findall(tail)
    return references[-1] if references else None


def message_id(value: str) -> str | None:
    """The first ``<id>`` written in a header value, brackets kept."""
    match = _MSGID.search(value)
    return match.group(0) if match else None


def enclosed_id(message: Message) -> str | None:
    """The Message-ID of the mail a report returns (message/rfc822 or header-block part)."""
    for part in mime.own_tree(message):
        if part.get_content_type() in mime.ENCLOSED_TYPES:
            headers = mime.enclosed_headers(part)
            if headers is not None:
                found = message_id(mime.header(headers, "Message-ID"))
                if found:
                    return found
    return None
