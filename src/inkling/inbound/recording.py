"""What inbound mail means for the message it answers, recorded as an event.

A reply or a read receipt a person sent is strong evidence of a person; an auto-reply or
a delivery report is a machine's and says nothing about reading; a hard bounce means
nobody will read the message. Each becomes an event on the copy it answers, with the
details (status, reason, disposition, return date) kept beside it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence

from inkling.inbound.matching import CopyFinder
from inkling.inbound.model import Bounce, Parsed
from inkling.inbound.parser import parse_message
from inkling.model import (
    EVENT_ID_HEX,
    Agent,
    Event,
    EventId,
    EventKind,
    InklingId,
    Verdict,
    new_event_id,
)
from inkling.store import Store
from inkling.tokens import TokenCodec

log = logging.getLogger(__name__)

_KINDS = {
    "reply": EventKind.REPLY,
    "mdn": EventKind.READ_RECEIPT,
    "autoreply": EventKind.AUTOREPLY,
    "bounce": EventKind.BOUNCE,
    "complaint": EventKind.COMPLAINT,
    "delivered": EventKind.DELIVERED,
}
#: Read-receipt dispositions that do not say the message was shown to anyone.
_NOT_SHOWN = ("deleted", "denied", "failed", "processed")


class InboundRecorder:
    """``deliver(raw, recipients)`` for the inbound MX and the IMAP poller."""

    def __init__(
        self,
        store: Store,
        codec: TokenCodec,
        return_domain: str | None,
        *,
        via: str,
        parse: Callable[[bytes], Parsed] = parse_message,
        parse_seconds: Callable[[float], None] | None = None,
    ) -> None:
        """``parse_seconds`` is told how long each message took to parse (``/metrics``)."""
        self._store = store
        self._parse = parse  # the MX and the poller parse in a worker process (isolation.py)
        self._parse_seconds = parse_seconds
        self._finder = CopyFinder(store, codec, return_domain)
        self._via = via  # "SMTP" or "IMAP": kept as the event's method

    def deliver(
        self, raw: bytes, recipients: Sequence[str] = (), *, received_at: float | None = None
    ) -> Event | None:
        """Record what ``raw`` says about the copy it answers; None if it answers none of
        Inkling's copies (or is nothing Inkling records). Raises only if the store does,
        so the sender or the poller tries again later.

        The event's id comes from the mail's bytes, so the same mail delivered twice (a
        sender's retry, a file recorded again) is one event. ``received_at`` (default now)
        is when it arrived."""
        began = time.perf_counter()
        parsed = self._parse(raw)
        if self._parse_seconds is not None:
            self._parse_seconds(time.perf_counter() - began)
        kind = _KINDS.get(parsed.kind)
        if kind is None:
            log.info("inbound mail of kind %s: nothing to record", parsed.kind)
            return None
        found = self._finder.find(raw, parsed, recipients)
        if found is None:
            log.info("inbound %s answers no message Inkling sent", parsed.kind)
            return None
        copy, matched_by = found
        event = _event(parsed, kind, copy.id, copy.sent_at, self._via, matched_by)
        event.id = _id_of(raw)
        if received_at is not None:
            event.ts = max(received_at, float(copy.sent_at))
        self._store.events.insert([event])
        log.info("recorded %s on %s (matched by %s)", kind.value, copy.id, matched_by)
        return event


def _id_of(raw: bytes) -> EventId:
    return EventId(hashlib.sha256(raw).hexdigest()[:EVENT_ID_HEX])


def _event(
    parsed: Parsed, kind: EventKind, message: InklingId, sent_at: int, via: str, matched_by: str
) -> Event:
    verdict, agent, reason = _judgement(parsed, kind)
    return Event(
        id=new_event_id(),
        message=message,
        kind=kind,
        ts=time.time(),
        method=via,
        sent_at=sent_at,
        # NUL cannot be stored in PostgreSQL text; a malformed bounce may carry one, and a
        # message the store refuses would come back from the poller again and again.
        details={k: v.replace("\x00", "") for k, v in _details(parsed).items()},
        verdict=verdict,
        agent=agent,
        reasons=[reason, f"matched to the message by {matched_by}"],
    )


def _judgement(parsed: Parsed, kind: EventKind) -> tuple[Verdict, Agent, str]:
    if kind is EventKind.REPLY:
        return Verdict.HUMAN, Agent.REPLY, "the customer wrote back"
    if kind is EventKind.COMPLAINT:
        return Verdict.HUMAN, Agent.COMPLAINT, "the recipient reported the message as spam"
    if kind is EventKind.READ_RECEIPT and parsed.mdn is not None:
        disposition = parsed.mdn.disposition
        if disposition in _NOT_SHOWN:
            return Verdict.UNKNOWN, Agent.READ_RECEIPT, f"a read receipt says {disposition}"
        how = "sent automatically" if parsed.mdn.automatic else "sent by the reader"
        return Verdict.HUMAN, Agent.READ_RECEIPT, f"a read receipt ({how}) says {disposition}"
    if kind is EventKind.BOUNCE and parsed.bounce is not None:
        return Verdict.MACHINE, Agent.BOUNCE, _bounce_sentence(parsed.bounce)
    if kind is EventKind.AUTOREPLY:
        until = parsed.autoreply.until if parsed.autoreply else None
        said = f"an automatic reply (back {until})" if until else "an automatic reply"
        return Verdict.MACHINE, Agent.AUTOREPLY, said + ": says nothing about reading"
    return Verdict.MACHINE, Agent.DSN, "the receiving server reported the message delivered"


def _bounce_sentence(bounce: Bounce) -> str:
    said = f"{bounce.status} {bounce.reason}"
    if not bounce.final:
        return f"delivery delayed ({said}): the mail system still tries"
    if bounce.bounce_class == "hard":
        return f"bounced ({said}): the address is wrong, nobody will read it"
    return f"bounced ({said}): not delivered, the address may still work"


def _details(parsed: Parsed) -> dict[str, str]:
    details: dict[str, str] = {}
    if parsed.in_reply_to:
        details["in-reply-to"] = parsed.in_reply_to
    if parsed.bounce is not None:
        details |= {
            "final": "true" if parsed.bounce.final else "false",
            "class": parsed.bounce.bounce_class,
            "status": parsed.bounce.status,
            "reason": parsed.bounce.reason,
            "owner": parsed.bounce.owner,
            "recipients": ", ".join(parsed.bounce.recipients),
        }
    if parsed.mdn is not None:
        details |= {
            "disposition": parsed.mdn.disposition,
            "automatic": "yes" if parsed.mdn.automatic else "no",
        }
    if parsed.autoreply is not None:
        details["autoreply"] = parsed.autoreply.kind
        if parsed.autoreply.until:
            details["until"] = parsed.autoreply.until
    return details
