"""The copies a message goes out as: instrumented (or deliberately not), each registered.

One copy per recipient by default, each with its own Inkling id, so its tracked links,
pixel and return addresses name the person it went to; or one copy shared by all. The
helpdesk's ``X-Inkling-*`` headers are read and removed. A DKIM-signed message is signed
again after instrumenting, or, without a key, forwarded exactly as it came.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from email.utils import make_msgid
from functools import partial

from inkling.errors import InstrumentError, RelayError
from inkling.instrument import Instrumented, instrument_message
from inkling.instrument.links import MessageLinks
from inkling.instrument.message import Notice
from inkling.mail.headers import first_address, first_value, prepend_field, remove_fields
from inkling.mail.returnpath import ReturnKind, return_address
from inkling.model import InklingId, MessageIdHeader, MessageRecord
from inkling.privacy.policy import (
    NOTICE_LINK,
    Decision,
    Tracking,
    decide,
    disclosure,
    sensitive,
)
from inkling.relay.signing import Signature, Signer, signatures
from inkling.relay.workflows import Workflows
from inkling.tokens import TokenCodec

log = logging.getLogger(__name__)
WORKFLOW_HEADER = "x-inkling-workflow"
TICKET_HEADER = "x-inkling-ticket"
NO_KEY = "DKIM-signed and no key to re-sign"


@dataclass(frozen=True, slots=True)
class CopyPlan:
    """A copy as decided when its recipients were accepted: its id, send time, envelope."""

    id: InklingId
    sent_at: int
    recipients: Sequence[str]


@dataclass(frozen=True, slots=True)
class Copy:
    """A copy ready to send: the bytes, and the record and links to register."""

    data: bytes
    record: MessageRecord
    links: list[str]
    #: What instrumenting noticed (a link left alone, no HTML part so no pixel, ...).
    warnings: tuple[str, ...] = ()
    #: What was malformed in the message (a charset that is no text encoding, ...).
    defects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Incoming:
    """What every copy of one message shares."""

    tracked_base: bytes
    untouched: bytes
    signed: list[Signature]
    may_change: bool
    message_id: str | None
    workflow: str | None
    ticket: str | None
    subject: str | None
    senders: list[str]
    screening: _Screening = field(default_factory=lambda: _Screening())


@dataclass(slots=True)
class _Screening:
    """What the guard found in a message, read once for all its copies (the finding
    depends on the message, not on the recipient)."""

    done: bool = False
    content: str | None = None  # why nothing is tracked ("sensitive: card number")
    link: str | None = None  # why there is no pixel ("sensitive: password reset link")


class CopyMaker:
    """Turns a received message into its copies; see the module docstring."""

    def __init__(
        self,
        *,
        codec: TokenCodec,
        base_url: str,
        workflows: Workflows,
        signer: Signer | None,
        return_domain: str | None,
        max_bytes: int,
        opted_out: Callable[[Sequence[str]], bool] = lambda recipients: False,
        guard: bool = True,
    ) -> None:
        """``opted_out`` tells whether any of a copy's recipients (or their domains) opted
        out; ``guard`` runs the sensitive-content guard on every message."""
        self._codec = codec
        self._opted_out = opted_out
        self._guard = guard
        self._base_url = base_url
        self._workflows = workflows
        self._signer = signer
        self._return_domain = return_domain
        self._max_bytes = max_bytes

    def envelope_sender(self, original: str, plan_id: str, sent_at: int) -> str:
        """The copy's envelope sender: a VERP return address when a return domain is set.
        A null sender (a bounce the helpdesk relays) stays null: bounces are never bounced.
        """
        if not original or not self._return_domain:
            return original
        return return_address(self._codec, plan_id, sent_at, ReturnKind.BOUNCE, self._return_domain)

    def make(
        self,
        raw: bytes,
        envelope_sender: str,
        plans: Sequence[CopyPlan],
        *,
        workflow: str | None = None,
        ticket: str | None = None,
    ) -> list[Copy]:
        """One Copy per plan, in order. ``workflow`` and ``ticket``, when given, win over
        the message's ``X-Inkling-*`` headers. Never raises for a message it cannot
        instrument: such a copy goes out untouched and its record says why."""
        incoming = self._read(raw, envelope_sender)
        if workflow or ticket:
            incoming = replace(
                incoming,
                workflow=workflow or incoming.workflow,
                ticket=ticket or incoming.ticket,
            )
        return [self._copy(incoming, plan) for plan in plans]

    def _read(self, raw: bytes, envelope_sender: str) -> _Incoming:
        signed = signatures(raw)
        may_change = not signed or self._signer is not None
        covered = {h.decode("ascii", "replace") for s in signed for h in s.headers}
        ours = {WORKFLOW_HEADER, TICKET_HEADER}
        # removing a field a signature covers would break it: left in when we cannot re-sign
        untouched = remove_fields(raw, ours - covered)
        tracked_base = remove_fields(raw, ours)
        message_id = first_value(raw, "message-id")
        sender = first_address(raw, "from")
        if not message_id and may_change:
            # added once, so every recipient's copy carries the same Message-ID
            domain = sender.rpartition("@")[2]
            message_id = make_msgid(
                domain=domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain) else "inkling.invalid"
            )
            tracked_base = prepend_field(tracked_base, "Message-ID", message_id)
        return _Incoming(
            tracked_base=tracked_base,
            untouched=untouched,
            signed=signed,
            may_change=may_change,
            message_id=message_id,
            workflow=first_value(raw, WORKFLOW_HEADER),
            ticket=first_value(raw, TICKET_HEADER),
            subject=first_value(raw, "subject"),
            senders=[s for s in (envelope_sender, sender) if s],
        )

    def _copy(self, incoming: _Incoming, plan: CopyPlan) -> Copy:
        route = self._workflows.route(
            incoming.workflow,
            senders=incoming.senders,
            recipients=plan.recipients,
            subject=incoming.subject,
        )
        opted_out = bool(plan.recipients) and self._opted_out(plan.recipients)
        decision = decide(route.policy, opted_out=opted_out)
        data, links = incoming.untouched, list[str]()
        warnings: tuple[str, ...] = ()
        defects: tuple[str, ...] = ()
        if decision.tracked and not incoming.may_change:
            decision = decision.limited(Tracking.NONE, NO_KEY)
            log.warning("%s: %s; forwarded untouched", incoming.message_id, NO_KEY)
        elif decision.tracked:
            try:
                data, links, warnings, defects, decision = self._instrument(
                    incoming, plan, decision
                )
            except (InstrumentError, RelayError) as exc:
                data, links = incoming.untouched, []
                decision = decision.limited(Tracking.NONE, f"not tracked: {exc}")
                log.warning("%s: %s; forwarded untouched", incoming.message_id, exc)
        record = MessageRecord(
            id=plan.id,
            message_id=MessageIdHeader(incoming.message_id or f"<{plan.id}@inkling.invalid>"),
            workflow=route.workflow,
            ticket=incoming.ticket,
            subject=incoming.subject,
            sent_at=plan.sent_at,
            links_total=len(links),
            recipient=", ".join(plan.recipients),
            untracked=decision.why,
            tracking=decision.tracking,
        )
        return Copy(data, record, links, warnings, defects)

    def _instrument(
        self, incoming: _Incoming, plan: CopyPlan, decision: Decision
    ) -> tuple[bytes, list[str], tuple[str, ...], tuple[str, ...], Decision]:
        """The copy instrumented as ``decision`` allows, and the decision as it stands
        once the guard has read the message (a finding can only make it stricter)."""
        screening = incoming.screening
        if screening.content is not None:
            return (
                incoming.untouched,
                [],
                (),
                (),
                decision.limited(Tracking.NONE, screening.content),
            )
        if screening.link is not None:
            decision = decision.limited(Tracking.CLICKS, screening.link)
        result = self._instrumented(incoming, plan, decision, guard=not screening.done)
        screening.done = True
        if result.sensitive:
            screening.content = sensitive(result.sensitive[0].kind)
            return (
                incoming.untouched,
                [],
                (),
                tuple(result.defects),
                decision.limited(Tracking.NONE, screening.content),
            )
        if result.kept_links and decision.pixel:
            screening.link = sensitive(result.kept_links[0])
            decision = decision.limited(Tracking.CLICKS, screening.link)
            result = self._instrumented(incoming, plan, decision, guard=False)
        data = result.mime
        warnings = list(result.warnings)
        if result.html_parts == 0 and decision.pixel:
            warnings.append("no HTML part, so no open pixel")
        if decision.read_receipt and self._return_domain:
            receipts = return_address(
                self._codec, plan.id, plan.sent_at, ReturnKind.RECEIPT, self._return_domain
            )
            data = prepend_field(
                remove_fields(data, {"disposition-notification-to"}),
                "Disposition-Notification-To",
                receipts,
            )
        if incoming.signed:
            assert self._signer is not None  # may_change says so
            data = self._signer.resign(data, incoming.signed)
        return data, list(result.links), tuple(warnings), tuple(result.defects), decision

    def _instrumented(
        self, incoming: _Incoming, plan: CopyPlan, decision: Decision, *, guard: bool
    ) -> Instrumented:
        notice = partial(_notice, disclosure(decision.tracking)) if decision.disclosure else None
        return instrument_message(
            incoming.tracked_base,
            codec=self._codec,
            base_url=self._base_url,
            message=plan.id,
            sent_at=plan.sent_at,
            max_bytes=self._max_bytes,
            pixel=decision.pixel,
            guard=guard and self._guard,
            notice=notice,
        )


def _notice(words: str, links: MessageLinks) -> Notice:
    return Notice(words, NOTICE_LINK, links.notice_url())
