"""What ``POST /api/v1/messages`` is asked to send: a message and its envelope.

A request gives either a whole message (``message/rfc822``), whose envelope is read from
its headers as ``sendmail -t`` does (From; To, Cc and Bcc, with Bcc removed), or fields
(JSON), from which the message is built with :class:`email.message.EmailMessage`. Either
way the result is an :class:`Outgoing`: bytes the relay's copy maker takes as they are.

Every JSON field that becomes a header field is checked before anything is written, and
the composed message is read back: a value goes out only if the ``email`` package (and,
for the fields Inkling records, Inkling's own reader) reads it back as it was given.
Header fields are written here rather than by ``email``'s folder, which in Python 3.11
splits encoded words mid-character and drops white space beside them: of 3,000 made-up
non-ASCII subjects it changed 311 and wrote some as base64 that does not decode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.headerregistry import AddressHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, default
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Annotated, Any, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from inkling.errors import RequestError
from inkling.instrument.mime import looks_like_message
from inkling.mail.headers import HeaderField, first_value, header_fields, remove_fields
from inkling.relay.copies import TICKET_HEADER, WORKFLOW_HEADER
from inkling.relay.envelope import MAX_RECIPIENTS

#: 7-bit clean (quoted-printable or base64 bodies, encoded words), CRLF: safe through any
#: mail server, with no 8BITMIME or SMTPUTF8 to negotiate. ``refold_source="none"``: the
#: header fields written here are sent as written, never refolded by ``email``.
_POLICY = SMTP.clone(cte_type="7bit", refold_source="none")
#: A header value's length and a field name's, so that any field fits RFC 5322's line of
#: 998 characters even unfolded.
MAX_VALUE = 900
MAX_NAME = 76
_FOLD_AT = 78  # RFC 5322 2.1.1: lines SHOULD be at most 78 characters
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+")
#: What ``str.splitlines()`` breaks at besides CR and LF: ``email`` refuses a header
#: value holding any of them (VT, FF, FS, GS, RS, NEL, LS, PS).
_BREAK = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # C0 but tab, DEL, C1
_CONTROL_OR_TAB = re.compile("[\x00-\x1f\x7f-\x9f]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_SEGMENT = re.compile(r"[ \t]*[^ \t]+")
_ADDRESSES = HeaderRegistry()
_TEXT = HeaderRegistry(use_default_map=False)  # every field read as unstructured text
_READER = BytesParser(policy=default)
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
#: The fields of a whole message that Inkling reads (envelope, routing, record), by the
#: names its errors give them. Any other field is passed on as bytes, unread.
_READ_FIELDS = {
    "from": "From",
    "to": "To",
    "cc": "Cc",
    "bcc": "Bcc",
    "subject": "Subject",
    "message-id": "Message-ID",
    WORKFLOW_HEADER: "X-Inkling-Workflow",
    TICKET_HEADER: "X-Inkling-Ticket",
}
#: Text fields Inkling itself reads back from a composed message (and records).
_RECORDED = frozenset({"subject", WORKFLOW_HEADER, TICKET_HEADER})


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message and its envelope: the sender ('' if none) and the recipients' addresses."""

    raw: bytes
    sender: str
    recipients: list[str]


# -- what a header value may hold -----------------------------------------------------------


def character_problem(value: str, *, tab: bool = True) -> str | None:
    """Why ``value`` cannot be carried in a header field, or None. ``tab``: a tab is
    allowed (it is, in free text; in an address it would be read as a space)."""
    if "\r" in value or "\n" in value:
        return "must be one line (no CR or LF)"
    for pattern, what in (
        (_BREAK, "a line break, which a header field cannot carry"),
        (_SURROGATE, "half of a UTF-16 surrogate pair, which is not text"),
        (_CONTROL if tab else _CONTROL_OR_TAB, "a control character"),
    ):
        found = pattern.search(value)
        if found:
            return f"holds U+{ord(found.group()):04X}, {what}"
    return None


def _header_problem(value: str, *, tab: bool = True, encoded: bool = False) -> str | None:
    """``character_problem``, then what mail software would read differently: white space
    at either end (dropped) and, unless ``encoded`` words are allowed, text in the form
    of an RFC 2047 encoded word (decoded)."""
    problem = character_problem(value, tab=tab)
    if problem is None and (value[:1] in (" ", "\t") or value[-1:] in (" ", "\t")):
        problem = "starts or ends with white space, which mail software drops"
    if problem is None and not encoded and _ENCODED_WORD.search(value):
        problem = "holds =?...?= text, which mail software would decode (RFC 2047)"
    return problem


def _header_text(value: str) -> str:
    problem = _header_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _message_ids(value: str) -> str:
    _header_text(value)
    if not value.isascii():
        raise ValueError("must be ASCII, as Message-IDs are")
    return value


def _body(value: str) -> str:
    found = _SURROGATE.search(value)
    if found:
        raise ValueError(f"holds U+{ord(found.group()):04X}, half of a surrogate pair, not text")
    return value


def _shown(value: str) -> str:
    """``value`` quoted for an error message: escaped, and cut short."""
    return repr(value[:60]) + ("..." if len(value) > 60 else "")


def mailbox(value: str) -> tuple[str, str]:
    """The display name and address of ``value`` (``ann@x.example``, ``Ann
    <ann@x.example>``; the name may be quoted, or given as RFC 2047 encoded words).

    Raises ValueError naming the problem: mail to a malformed address would only bounce,
    and a mailbox that mail software reads another way than Inkling's envelope does (a
    group, a comment, a stray backslash) would go to one place and show another.
    """
    problem = _header_problem(value, tab=False, encoded=True)
    if problem:
        raise ValueError(problem)
    found = getaddresses([value])
    if len(found) != 1 or not _ADDRESS.fullmatch(found[0][1]):
        raise ValueError(f"{_shown(value)} is not one email address")
    display, address = found[0]
    if not address.isascii():
        raise ValueError(
            f"the address {_shown(address)} is not ASCII: give its domain in its xn-- "
            "form, or send the whole message (message/rfc822)"
        )
    read = _read_mailboxes(value)
    encoded = _ENCODED_WORD.search(value) is not None  # getaddresses leaves them encoded
    if not read or read[0][1] != address or (read[0][0] != display and not encoded):
        raise ValueError(
            f"{_shown(value)} is read two ways by mail software: write Name <address>, "
            'the name in double quotes if it holds any of , ; : < > @ ( ) [ ] \\ "'
        )
    problem = character_problem(read[0][0], tab=False)
    if problem:
        raise ValueError(f"its display name, decoded, {problem}")
    return read[0][0], address


def address_of(value: str) -> str:
    """The address in ``value``; raises ValueError as :func:`mailbox` does."""
    return mailbox(value)[1]


def _mailbox(value: str) -> str:
    mailbox(value)
    return value


def _read_mailboxes(value: str) -> list[tuple[str, str]] | None:
    """The mailboxes the ``email`` package reads in an address field's ``value``; None
    for a group (``Team: ann@x.example;``) or what its parser cannot read."""
    try:
        groups = cast(AddressHeader, _ADDRESSES("To", value)).groups
    except (ValueError, IndexError, HeaderParseError):  # its parser is not total
        return None
    if any(group.display_name is not None for group in groups):
        return None
    return [(a.display_name, a.addr_spec) for group in groups for a in group.addresses]


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Value = Annotated[str, StringConstraints(max_length=MAX_VALUE)]
HeaderText = Annotated[Value, AfterValidator(_header_text)]
Mailbox = Annotated[Value, AfterValidator(_mailbox)]
Mailboxes = Annotated[list[Mailbox], BeforeValidator(_listed)]
MessageIds = Annotated[Value, AfterValidator(_message_ids)]
Body = Annotated[str, AfterValidator(_body)]


_EXAMPLE: dict[str, JsonValue] = {
    "to": ["Ana Silva <ana@customer.example>"],
    "from": "Support <support@help.example>",
    "subject": "Your refund",
    "text": "Hello Ana, your refund is on its way.",
    "ticket": "4123",
}


class NewMessage(BaseModel):
    """A message given field by field (``Content-Type: application/json``)."""

    # the example shows in /api/docs, and schemathesis sends it (tests/api)
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [_EXAMPLE]}
    )

    to: Annotated[
        Mailboxes,
        Field(min_length=1, description="One address or a list (`Ann <ann@x.example>` too)"),
    ]
    sender: Annotated[Mailbox, Field(alias="from", description="The From address")]
    subject: HeaderText = ""
    html: Body | None = Field(default=None, description="The HTML body")
    text: Body | None = Field(default=None, description="The plain-text body")
    ticket: HeaderText | None = Field(default=None, description="The helpdesk's ticket id")
    workflow: HeaderText | None = Field(
        default=None, description="The workflow, whose policy decides what is tracked"
    )
    cc: Mailboxes = Field(default_factory=list)
    reply_to: Mailbox | None = None
    in_reply_to: MessageIds | None = Field(
        default=None, description="The Message-ID answered (also written as References)"
    )
    headers: dict[str, HeaderText] = Field(
        default_factory=dict, description="More header fields, e.g. `X-Priority`"
    )

    @field_validator("headers")
    @classmethod
    def _headers_are_extra(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if len(name) > MAX_NAME or not _FIELD_NAME.fullmatch(name):
                raise ValueError(
                    f"{_shown(name)} is not a header field name (printable ASCII but "
                    f"the colon, at most {MAX_NAME} characters)"
                )
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


# -- composing a message ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Written:
    """A header field as written: the request field it came from (named in an error),
    its name, and its value (text, or mailboxes as display name and address)."""

    source: str
    name: str
    value: str | list[tuple[str, str]]


def compose(new: NewMessage) -> Outgoing:
    """The message ``new`` describes: multipart/alternative when it has both bodies.

    Raises RequestError naming the request field whose value would not read back from
    the message as it was given.
    """
    message = EmailMessage(policy=_POLICY)
    written: list[_Written] = []

    def put(source: str, name: str, value: str | list[tuple[str, str]]) -> None:
        written.append(_Written(source, name, value))
        message.set_raw(name, _field_value(name, value))

    sender = mailbox(new.sender)
    put("from", "From", [sender])
    put("to", "To", [mailbox(value) for value in new.to])
    if new.cc:
        put("cc", "Cc", [mailbox(value) for value in new.cc])
    if new.reply_to:
        put("reply_to", "Reply-To", [mailbox(new.reply_to)])
    put("subject", "Subject", new.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain(sender[1]))
    if new.in_reply_to:
        put("in_reply_to", "In-Reply-To", new.in_reply_to)
        if not any(name.lower() == "references" for name in new.headers):
            put("in_reply_to", "References", new.in_reply_to)
    # read, then removed, by the copy maker, as from a helpdesk's mail
    if new.workflow:
        put("workflow", "X-Inkling-Workflow", new.workflow)
    if new.ticket:
        put("ticket", "X-Inkling-Ticket", new.ticket)
    for name, value in new.headers.items():
        put("headers", name, value)
    _set_bodies(message, new.text, new.html)
    raw = message.as_bytes()
    _check_read_back(raw, written)
    recipients = _unique([mailbox(value)[1] for value in [*new.to, *new.cc]])
    return Outgoing(raw, sender[1], recipients)


def _field_value(name: str, value: str | list[tuple[str, str]]) -> str:
    """The value of field ``name``, folded at white space before 78 characters where it
    can be: text as it is when ASCII, else as RFC 2047 encoded words in UTF-8 (spaces and
    all inside them, so no reader can lose one); mailboxes as ``Name <address>``."""
    if isinstance(value, list):
        return _folded(name, _mailbox_segments(value))
    if value.isascii():
        return _folded(name, _SEGMENT.findall(value) or [""])
    words = _encoded_words(value)
    return _folded(name, [words[0], *(" " + word for word in words[1:])])


def _encoded_words(text: str) -> list[str]:
    return Header(text, "utf-8").encode(maxlinelen=76).split()


def _mailbox_segments(mailboxes: list[tuple[str, str]]) -> list[str]:
    """``Name <address>, ...`` in pieces that may be folded before (each but the first
    starts with a space)."""
    segments: list[str] = []
    for display, address in mailboxes:
        words = [*_phrase(display), f"<{address}>"] if display else [address]
        if segments:
            segments[-1] += ","
            words[0] = " " + words[0]
        segments += [words[0], *(" " + word for word in words[1:])]
    return segments


def _phrase(display: str) -> list[str]:
    """A display name's words: atoms as they are, else one quoted string (ASCII) or
    encoded words (not ASCII)."""
    if not display.isascii():
        return _encoded_words(display)
    if _ATOMS.fullmatch(display):
        return display.split(" ")
    return ['"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"']


def _folded(name: str, segments: list[str]) -> str:
    """``segments`` joined, with a line break before one (it starts with white space)
    where the line would pass 78 characters. A segment is never split: a long word
    makes a long line (at most 998, as values are limited)."""
    lines: list[list[str]] = [[segments[0]]]
    width = len(name) + 2 + len(segments[0])
    for segment in segments[1:]:
        if width + len(segment) > _FOLD_AT:
            lines.append([segment])
            width = len(segment)
        else:
            lines[-1].append(segment)
            width += len(segment)
    return "\r\n".join("".join(line) for line in lines)


def _check_read_back(raw: bytes, written: list[_Written]) -> None:
    """Raises RequestError for the first field that the ``email`` package (or, for the
    fields Inkling records, Inkling's own reader) does not read back as written."""
    parsed = _READER.parsebytes(raw, headersonly=True)
    values: dict[str, list[str]] = {}
    for name, value in parsed.raw_items():
        values.setdefault(name.lower(), []).append("".join(re.split(r"\r|\n", value)))
    taken: dict[str, int] = {}
    for field in written:
        key = field.name.lower()
        nth = taken[key] = taken.get(key, -1) + 1
        found = values.get(key, [])
        unfolded = found[nth] if nth < len(found) else None
        if unfolded is None or _read(field.name, unfolded, field.value) != field.value:
            raise RequestError(field.source, _UNREAD.format(name=field.name))
        if nth == 0 and key in _RECORDED and first_value(raw, key) != field.value:
            raise RequestError(field.source, _UNREAD.format(name=field.name))


_UNREAD = "would not read back from the {name} field as it was given"


def _read(name: str, unfolded: str, like: str | list[tuple[str, str]]) -> object:
    if isinstance(like, list):
        return _read_written(unfolded)
    return str(_TEXT(name, unfolded))


def _read_written(unfolded: str) -> list[tuple[str, str]] | None:
    """The mailboxes of a written address field, display names decoded as RFC 2047 6.2
    says (white space between two encoded words dropped; the ``email`` package's header
    registry keeps it in a display name), provided the registry reads the same addresses."""
    read = _read_mailboxes(unfolded)
    found = getaddresses([unfolded])
    if read is None or [a for _, a in read] != [a for _, a in found]:
        return None
    return [(str(make_header(decode_header(d))) if "=?" in d else d, a) for d, a in found]


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


# -- a whole message -------------------------------------------------------------------------


def from_mime(raw: bytes, *, for_sending: bool) -> Outgoing:
    """A whole message and the envelope its headers give (Bcc removed from it).

    ``for_sending``: a message to send needs a From address and a recipient; one only to
    instrument does not (it is registered without a recipient, like ``inkling instrument``).
    Raises RequestError naming the field at fault.
    """
    if not looks_like_message(raw):
        raise RequestError("body", "not a MIME message: it does not start with a header block")
    fields = header_fields(raw)
    _check_read_fields(fields)
    senders = _addresses(fields, {"from"})
    recipients = _unique(_addresses(fields, {"to", "cc", "bcc"}))
    if len(recipients) > MAX_RECIPIENTS:
        raise RequestError("To", f"at most {MAX_RECIPIENTS} recipients (To, Cc, Bcc)")
    if for_sending and not senders:
        raise RequestError("From", "a message to send needs a From address")
    if for_sending and not recipients:
        raise RequestError("To", "a message to send needs a recipient in To, Cc or Bcc")
    return Outgoing(remove_fields(raw, {"bcc"}), senders[0] if senders else "", recipients)


def _check_read_fields(fields: list[HeaderField]) -> None:
    """Raises RequestError naming the first field Inkling reads whose text (its encoded
    words decoded) it cannot keep: it does not decode, or it holds a line break, a
    control character (a tab is fine) or a lone surrogate (a charset such as UTF-7 can
    decode to one)."""
    for field in fields:
        label = _READ_FIELDS.get(field.name)
        if label is None:
            continue
        try:
            text = field.decoded()
        except HeaderParseError as exc:
            raise RequestError(
                label, "holds an encoded word (RFC 2047) that does not decode"
            ) from exc
        problem = character_problem(text)
        if problem:
            decoded = " once its encoded words are decoded" if b"=?" in field.value else ""
            raise RequestError(label, problem + decoded)


def _addresses(fields: list[HeaderField], names: set[str]) -> list[str]:
    """The addresses in the header fields named ``names``, in order; RequestError naming
    the field of one that is malformed."""
    found: list[str] = []
    for field in fields:
        if field.name not in names:
            continue
        for display, address in getaddresses([field.text()]):
            if (display or address) and not _ADDRESS.fullmatch(address):
                label = _READ_FIELDS[field.name]
                raise RequestError(label, f"{_shown(display or address)} is not an email address")
            if address:
                found.append(address)
    return found
