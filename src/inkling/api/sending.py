"""Sending through the API: the relay's copies, handed back or sent upstream.

Nothing here makes or sends a copy itself: :class:`Outbound` (the relay's outgoing half)
instruments, routes, signs, registers and sends, exactly as for mail from the SMTP relay.
This module only turns an API request into its envelope and the outcome into answers: one
per copy, because an API caller, unlike an SMTP client, can be told what became of each.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from inkling.api.compose import Outgoing
from inkling.errors import StoreError
from inkling.mail.headers import first_value
from inkling.relay import IN_FLIGHT, Copy, CopyPlan, Outbound, Outcome, Reply
from inkling.tokens import new_message_id

log = logging.getLogger(__name__)
STORE_AWAY = "Inkling cannot record the message right now; nothing was sent, try again later"


class PreparedCopy(BaseModel):
    """A copy made and registered, for the caller to send (``send=false``)."""

    id: str = Field(description="Inkling's id of the copy: read it at /api/v1/messages/{id}")
    recipient: str = Field(description="Its recipient(s); '' when the message named none")
    message_id: str
    untracked: str | None = Field(description="Why the copy is not tracked, or null")
    mime: str = Field(description="The copy to send, base64")


class Prepared(BaseModel):
    copies: list[PreparedCopy]

    @classmethod
    def of(cls, copies: list[Copy]) -> Prepared:
        return cls(copies=[_prepared(copy) for copy in copies])


class SentCopy(BaseModel):
    """What became of one copy (``send=true``)."""

    id: str | None = Field(
        description="Inkling's id of the copy; null if refused (a refused copy is not kept)"
    )
    recipient: str
    message_id: str | None
    untracked: str | None = Field(description="Why the copy went out untracked, or null")
    status: Literal["sent", "refused"]
    reply: str = Field(description="The mail server's answer, e.g. `250 2.0.0 queued`")


class Sent(BaseModel):
    copies: list[SentCopy]


class SendFailed(BaseModel):
    """No copy went out (502: the mail server refused; 503: it could not be reached)."""

    detail: str
    copies: list[SentCopy] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Result:
    """One copy's fate; ``copy`` is None for recipients refused before a copy was made."""

    recipient: str
    reply: Reply
    copy: Copy | None


class Sending:
    """Prepares or sends an :class:`Outgoing` through the relay's outgoing half."""

    def __init__(self, outbound: Outbound) -> None:
        self._outbound = outbound

    @property
    def can_send(self) -> bool:
        return self._outbound.upstream is not None

    def prepare(self, outgoing: Outgoing) -> list[Copy]:
        """Make the copies and register them (blocking: call it in a worker thread).

        Raises DuplicateMessage for a message already registered under this Message-ID
        for the same recipient, StoreUnavailable when the database is away.
        """
        sent_at = int(time.time())
        if self._outbound.per_recipient and outgoing.recipients:
            plans = [CopyPlan(new_message_id(), sent_at, [r]) for r in outgoing.recipients]
        else:
            plans = [CopyPlan(new_message_id(), sent_at, outgoing.recipients)]
        return self._outbound.register(outgoing.raw, outgoing.sender, plans)

    async def send(self, outgoing: Outgoing) -> tuple[int, Sent | SendFailed]:
        """Send the copies upstream; the HTTP status and body that tell the outcome.

        201 if any copy went out; else 502 with the mail server's refusal, or 503 if it
        could not be reached (or Inkling could not record the copies: nothing was sent).
        """
        envelope = self._outbound.envelope(outgoing.sender, _mail_options(outgoing))
        refusals: dict[str, Reply] = {}
        try:
            for recipient in outgoing.recipients:
                reply = await envelope.add(recipient)
                if not reply.ok:
                    refusals[recipient] = reply
        except BaseException:
            await envelope.abort()
            raise
        try:
            outcomes = await self._outbound.delivery.send(
                envelope, outgoing.raw, all_or_nothing=False
            )
        except StoreError as exc:
            log.error("cannot register a message sent through the API: %s", exc)
            return 503, SendFailed(detail=STORE_AWAY)
        results = _results(outgoing.recipients, refusals, outcomes)
        message_id = _message_id(outcomes) or first_value(outgoing.raw, "message-id")
        return _answer([_sent(result, message_id) for result in results], results)


def _mail_options(outgoing: Outgoing) -> list[str]:
    """MAIL parameters a raw message may need: a composed one needs none (it is 7-bit)."""
    options = []
    if not outgoing.raw.isascii():
        options.append("BODY=8BITMIME")
    if not all(address.isascii() for address in [outgoing.sender, *outgoing.recipients]):
        options.append("SMTPUTF8")
    return options


def _results(
    recipients: list[str], refusals: dict[str, Reply], outcomes: list[Outcome]
) -> list[_Result]:
    """One result per copy, in the order of the recipients; refused recipients (no copy
    made) each get their own."""
    owner = {
        name.strip().lower(): outcome
        for outcome in outcomes
        for name in outcome.copy.record.recipient.split(",")
    }
    results: list[_Result] = []
    seen: set[int] = set()
    for recipient in recipients:
        if recipient in refusals:
            results.append(_Result(recipient, refusals[recipient], None))
            continue
        outcome = owner.get(recipient.lower())
        if outcome is not None and id(outcome) not in seen:
            seen.add(id(outcome))
            results.append(_Result(outcome.copy.record.recipient, outcome.reply, outcome.copy))
    return results


def _message_id(outcomes: list[Outcome]) -> str | None:
    """The Message-ID all copies share (the copy maker may have added it), if any was made."""
    return outcomes[0].copy.record.message_id if outcomes else None


def _sent(result: _Result, message_id: str | None) -> SentCopy:
    copy = result.copy
    return SentCopy(
        id=copy.record.id if copy and result.reply.ok else None,
        recipient=result.recipient,
        message_id=copy.record.message_id if copy else message_id,
        untracked=copy.record.untracked if copy else None,
        status="sent" if result.reply.ok else "refused",
        reply=result.reply.line,
    )


def _answer(copies: list[SentCopy], results: list[_Result]) -> tuple[int, Sent | SendFailed]:
    if any(r.reply.ok for r in results):
        return 201, Sent(copies=copies)
    if any(r.reply == IN_FLIGHT for r in results):
        return 503, SendFailed(
            detail="another request is sending this message right now; try again in a minute",
            copies=copies,
        )
    refused = [r.reply for r in results if r.reply.reached]
    if refused:
        detail = f"the mail server refused the message: {refused[0].line}"
        return 502, SendFailed(detail=detail, copies=copies)
    return 503, SendFailed(
        detail=f"the mail server cannot be reached; nothing was sent: {_first_line(results)}",
        copies=copies,
    )


def _first_line(results: list[_Result]) -> str:
    return results[0].reply.line if results else "no reply"


def _prepared(copy: Copy) -> PreparedCopy:
    return PreparedCopy(
        id=copy.record.id,
        recipient=copy.record.recipient,
        message_id=copy.record.message_id,
        untracked=copy.record.untracked,
        mime=base64.b64encode(copy.data).decode("ascii"),
    )
