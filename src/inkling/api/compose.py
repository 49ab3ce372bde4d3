"""What ``POST /api/v1/messages`` is asked to send: a message and its envelope.

A request gives either a whole message (``message/rfc822``), whose envelope is read from
its headers as ``sendmail -t`` does (From; To, Cc and Bcc, with Bcc removed), or fields
(JSON), from which the message is built with :class:`email.message.EmailMessage`. Either
way the result is an :class:`Outgoing`: bytes the relay's copy maker takes as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from inkling.errors import RequestError
from inkling.instrument.mime import looks_like_message
from inkling.relay.copies import TICKET_HEADER, WORKFLOW_HEADER
from inkling.relay.envelope import MAX_RECIPIENTS
from inkling.relay.headers import HeaderField, header_fields, remove_fields

#: 7-bit clean (quoted-printable or base64 bodies, encoded words), CRLF: safe through any
#: mail server, with no 8BITMIME or SMTPUTF8 to negotiate.
_POLICY = SMTP.clone(cte_type="7bit")
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+")
#: Fields Inkling writes from the request's own fields (or for MIME); not in ``headers``.
_RESERVED = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "reply-to",
        "in-reply-to",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        WORKFLOW_HEADER,
        TICKET_HEADER,
    }
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message and its envelope: the sender ('' if none) and the recipients' addresses."""

    raw: bytes
    sender: str
    recipients: list[str]


def address_of(value: str) -> str:
    """The address in ``value`` (``ann@x.example`` or ``Ann <ann@x.example>``).

    Raises ValueError naming the problem: mail to a malformed address would only bounce.
    """
    found = getaddresses([value])
    if len(found) != 1 or not _ADDRESS.fullmatch(found[0][1]):
        raise ValueError(f"{value!r} is not one email address")
    return found[0][1]


def _mailbox(value: str) -> str:
    address_of(value)
    return value


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("must be one line (no CR or LF)")
    return value


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Mailbox = Annotated[str, AfterValidator(_one_line), AfterValidator(_mailbox)]
OneLine = Annotated[str, AfterValidator(_one_line)]
Mailboxes = Annotated[list[Mailbox], BeforeValidator(_listed)]


class NewMessage(BaseModel):
    """A message given field by field (``Content-Type: application/json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: Annotated[
        Mailboxes,
        Field(min_length=1, description="One address or a list (`Ann <ann@x.example>` too)"),
    ]
    sender: Annotated[Mailbox, Field(alias="from", description="The From address")]
    subject: OneLine = ""
    html: str | None = Field(default=None, description="The HTML body")
    text: str | None = Field(default=None, description="The plain-text body")
    ticket: OneLine | None = Field(default=None, description="The helpdesk's ticket id")
    workflow: OneLine | None = Field(
        default=None, description="The workflow, whose policy decides what is tracked"
    )
    cc: Mailboxes = Field(default_factory=list)
    reply_to: Mailbox | None = None
    in_reply_to: OneLine | None = Field(
        default=None, description="The Message-ID answered (also written as References)"
    )
    headers: dict[str, OneLine] = Field(
        default_factory=dict, description="More header fields, e.g. `X-Priority`"
    )

    @field_validator("headers")
    @classmethod
    def _headers_are_extra(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _FIELD_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a header field name")
            if name.lower() in _RESERVED:
                raise ValueError(f"{name!r} is written by Inkling or from its own field")
        return value

    @model_validator(mode="after")
    def _has_a_body_and_few_recipients(self) -> NewMessage:
        if self.html is None and self.text is None:
            raise PydanticCustomError("missing_body", "give html, text or both")
        if len(self.to) + len(self.cc) > MAX_RECIPIENTS:
            raise PydanticCustomError(
                "too_many_recipients",
                "at most {limit} recipients (to and cc) per message",
                {"limit": MAX_RECIPIENTS},
            )
        return self


def compose(new: NewMessage) -> Outgoing:
    """The message ``new`` describes: multipart/alternative when it has both bodies."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = new.sender
    message["To"] = ", ".join(new.to)
    if new.cc:
        message["Cc"] = ", ".join(new.cc)
    if new.reply_to:
        message["Reply-To"] = new.reply_to
    message["Subject"] = new.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain(address_of(new.sender)))
    if new.in_reply_to:
        message["In-Reply-To"] = new.in_reply_to
        if not any(name.lower() == "references" for name in new.headers):
            message["References"] = new.in_reply_to
    # read, then removed, by the copy maker, as from a helpdesk's mail
    if new.workflow:
        message[WORKFLOW_HEADER] = new.workflow
    if new.ticket:
        message[TICKET_HEADER] = new.ticket
    for name, value in new.headers.items():
        message[name] = value
    _set_bodies(message, new.text, new.html)
    recipients = _unique([address_of(value) for value in [*new.to, *new.cc]])
    return Outgoing(message.as_bytes(), address_of(new.sender), recipients)


def _unique(addresses: list[str]) -> list[str]:
    """Each address once (case ignored), in order: someone in both To and Cc gets one copy."""
    first: dict[str, str] = {}
    for address in addresses:
        first.setdefault(address.lower(), address)
    return list(first.values())


def _set_bodies(message: EmailMessage, text: str | None, html: str | None) -> None:
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
            for part in message.iter_parts():  # EmailMessage gives each new part one
                del part["MIME-Version"]
    elif html is not None:
        message.set_content(html, subtype="html")


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2]
    return domain if _DOMAIN.fullmatch(domain) else "inkling.invalid"


def from_mime(raw: bytes, *, for_sending: bool) -> Outgoing:
    """A whole message and the envelope its headers give (Bcc removed from it).

    ``for_sending``: a message to send needs a From address and a recipient; one only to
    instrument does not (it is registered without a recipient, like ``inkling instrument``).
    Raises RequestError naming the field at fault.
    """
    if not looks_like_message(raw):
        raise RequestError("body", "not a MIME message: it does not start with a header block")
    fields = header_fields(raw)
    senders = _addresses(fields, {"from"})
    recipients = _unique(_addresses(fields, {"to", "cc", "bcc"}))
    if len(recipients) > MAX_RECIPIENTS:
        raise RequestError("To", f"at most {MAX_RECIPIENTS} recipients (To, Cc, Bcc)")
    if for_sending and not senders:
        raise RequestError("From", "a message to send needs a From address")
    if for_sending and not recipients:
        raise RequestError("To", "a message to send needs a recipient in To, Cc or Bcc")
    return Outgoing(remove_fields(raw, {"bcc"}), senders[0] if senders else "", recipients)


def _addresses(fields: list[HeaderField], names: set[str]) -> list[str]:
    """The addresses in the header fields named ``names``, in order; RequestError naming
    the field of one that is malformed."""
    found: list[str] = []
    for field in fields:
        if field.name not in names:
            continue
        for display, address in getaddresses([field.text()]):
            if (display or address) and not _ADDRESS.fullmatch(address):
                label = field.name.capitalize()
                raise RequestError(label, f"{display or address!r} is not an email address")
            if address:
                found.append(address)
    return found
