"""Which sent copy an inbound message answers.

In order of certainty: a return address carrying the copy's token (the VERP bounce
address or the read-receipt address the relay set, or a tokened address a customer
replied to); then the Message-ID it answers, narrowed to the copy whose recipient the
bounce names or who wrote the reply, when the relay sent one copy per recipient.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from inkling.errors import UnknownMessage
from inkling.inbound.model import Parsed
from inkling.mail.returnpath import decode_return_address
from inkling.model import MessageRecord
from inkling.store import Store
from inkling.tokens import TokenCodec

_ADDRESS_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")


class CopyFinder:
    def __init__(self, store: Store, codec: TokenCodec, return_domain: str | None) -> None:
        self._store = store
        self._codec = codec
        self._return_domain = return_domain

    def find(
        self, raw: bytes, parsed: Parsed, recipients: Sequence[str]
    ) -> tuple[MessageRecord, str] | None:
        """The copy ``raw`` answers and how it was matched, or None."""
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        addressed = [*recipients, *_addresses(headers, _ADDRESS_HEADERS)]
        by_token = self._by_return_address(addressed)
        if by_token is not None:
            return by_token, "its return address"
        if not parsed.in_reply_to:
            return None
        copies = self._store.messages.copies_of(parsed.in_reply_to)
        if len(copies) <= 1:
            return (copies[0], "the Message-ID it answers") if copies else None
        people = _people(parsed, headers)
        for copy in copies:
            if {r.strip().lower() for r in copy.recipient.split(",")} & people:
                return copy, "the Message-ID it answers and its recipient"
        return None

    def _by_return_address(self, addresses: Iterable[str]) -> MessageRecord | None:
        if not self._return_domain:
            return None
        for address in addresses:
            found = decode_return_address(address, self._codec, self._return_domain)
            if found is not None:
                try:
                    return self._store.messages.find(found.message)
                except UnknownMessage:
                    continue  # a genuine token of a copy since erased
        return None


def _people(parsed: Parsed, headers: Message) -> set[str]:
    """Addresses that say which copy: the failed recipients of a bounce, or the author."""
    if parsed.bounce is not None:
        return {r.lower() for r in parsed.bounce.recipients}
    return {a.lower() for a in _addresses(headers, ("from", "reply-to", "sender"))}


def _addresses(headers: Message, names: Iterable[str]) -> list[str]:
    values = [str(v) for name in names for v in (headers.get_all(name) or [])]
    try:
        pairs = getaddresses(values)
    except (ValueError, TypeError, IndexError, RecursionError):  # "((((" in To:, say
        return []
    return [address for _, address in pairs if address]
