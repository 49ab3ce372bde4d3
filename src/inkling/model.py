"""What Inkling records, as plain data with closed vocabularies: sent copies and events.

Every signal becomes one :class:`Event`: a hit on the tracker (an open, a click) or a mail
that came back (a reply, a read receipt, a bounce, an auto-reply). Its kind, its verdict
and the agent that made it are closed vocabularies (enums), so a new word cannot slip into
the data by a typo; the raw evidence is kept beside them. A hit's HTTP evidence
(``evidence``) and a returned mail's details (``details``) are separate fields.

This is a leaf module: it imports nothing else of Inkling, so every layer may use it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NewType

#: Inkling's own id of a sent copy: 20 lowercase hexadecimal characters, in its tokens.
InklingId = NewType("InklingId", str)
#: A Message-ID header value as written, with its angle brackets (``<a1@help.example>``).
#: Several copies (one per recipient) share one.
MessageIdHeader = NewType("MessageIdHeader", str)
#: An event's own id: 24 lowercase hexadecimal characters, given when it is recorded.
EventId = NewType("EventId", str)

EVENT_ID_HEX = 24


class EventKind(StrEnum):
    """Hits on the tracker (open, click) and what came back by mail."""

    OPEN = "open"
    CLICK = "click"
    REPLY = "reply"
    READ_RECEIPT = "mdn"
    AUTOREPLY = "autoreply"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    DELIVERED = "delivered"


#: The kinds the tracker records (the rest arrive by mail).
HIT_KINDS = frozenset({EventKind.OPEN, EventKind.CLICK})
#: The journal's word for a pixel hit whose open token the loader checks, not the tracker:
#: every pixel gets the same GIF, so the answer need not wait for the check.
UNCHECKED_OPEN = "pixel"


class Verdict(StrEnum):
    """Who made an event: a person, a machine, or nobody can tell (yet)."""

    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"


class Agent(StrEnum):
    """What made an event. Machines first, then people's software, then mail."""

    APPLE_MPP = "apple_mpp"  # Apple Mail Privacy Protection's proxy, fetching every image
    GMAIL_PREFETCH = "gmail_prefetch"  # Gmail fetching images at delivery
    YAHOO_PROXY = "yahoo_proxy"
    PREFETCH = "prefetch"  # a request that says it is a prefetch
    SCANNER = "scanner"  # a link-checking security gateway, unnamed
    SAFELINKS = "scanner:safelinks"
    PROOFPOINT = "scanner:proofpoint"
    MIMECAST = "scanner:mimecast"
    BARRACUDA = "scanner:barracuda"
    LINK_PREVIEW = "link_preview"  # chat apps unfurling a pasted link
    SCRIPT = "script"  # a program: no user agent, a crawler, a library
    GMAIL_PROXY = "gmail_proxy"  # Gmail's image proxy, fetching when a person opens
    MAIL_CLIENT = "mail_client"
    BROWSER = "browser"
    REPLY = "reply"
    READ_RECEIPT = "read_receipt"
    COMPLAINT = "complaint"
    AUTOREPLY = "autoreply"
    BOUNCE = "bounce"
    DSN = "dsn"  # a delivery status notification that is not a failure


#: The agent named when the evidence says machine or person but not which: the one place
#: this fallback is decided (the classifier names it; readings of old events use it too).
FALLBACK_AGENT: dict[tuple[Verdict, EventKind], Agent] = {
    (Verdict.MACHINE, EventKind.OPEN): Agent.SCRIPT,
    (Verdict.MACHINE, EventKind.CLICK): Agent.SCANNER,
    (Verdict.HUMAN, EventKind.OPEN): Agent.MAIL_CLIENT,
    (Verdict.HUMAN, EventKind.CLICK): Agent.BROWSER,
}


#: Each vocabulary word as a plain str. A member's ``.value`` goes through a Python-level
#: descriptor, and a database driver binds only exact str quickly: on the loader's loops,
#: ``PLAIN[member]`` (a dict look-up in C) stands in for both.
PLAIN: dict[str, str] = {
    m: str.__str__(m) for vocabulary in (EventKind, Verdict, Agent) for m in vocabulary
}


def fallback_agent(verdict: Verdict, kind: EventKind) -> Agent | None:
    return FALLBACK_AGENT.get((verdict, kind))


def new_event_id() -> EventId:
    """A fresh random event id, for events that do not come through the journal (which
    numbers its own: segment id and position)."""
    return EventId(secrets.token_hex(EVENT_ID_HEX // 2))


@dataclass(slots=True)
class Event:
    """One signal about one sent copy, with the evidence kept as it arrived.

    ``ip`` is already truncated unless the operator keeps full addresses; the whole address
    is never kept. ``network`` is the published network (Apple's relay, Microsoft, ...) the
    whole address was found in before it was truncated: ``""`` when it was looked up and is
    in none, None when it was never looked up (mail, imports).
    """

    id: EventId
    message: InklingId
    kind: EventKind
    ts: float
    #: How it came: the HTTP method of a hit, or "SMTP"/"IMAP" for mail.
    method: str = "GET"
    sent_at: int | None = None
    link: int | None = None
    ip: str | None = None
    network: str | None = None
    user_agent: str | None = None
    #: Request headers kept to tell people from machines (hits only).
    evidence: dict[str, str] = field(default_factory=dict)
    #: What a returned mail said: status, reason, disposition, return date (mail only).
    details: dict[str, str] = field(default_factory=dict)
    verdict: Verdict = Verdict.UNKNOWN
    agent: Agent | None = None
    reasons: list[str] = field(default_factory=list)
    #: Where each reason points: "machine", "person" or "neither" (empty for events
    #: judged before reasons were weighed, and for mail).
    leanings: list[str] = field(default_factory=list)

    @property
    def is_hit(self) -> bool:
        return self.kind in HIT_KINDS


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """A stored event judged again because later hits of its message said more; kept as
    history beside the event's new verdict."""

    event: EventId
    message: InklingId
    previous: Verdict
    previous_agent: Agent | None
    verdict: Verdict
    agent: Agent | None
    reasons: list[str]
    changed_at: float
    leanings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One sent copy of a message, as registered."""

    id: InklingId
    message_id: MessageIdHeader
    workflow: str | None
    ticket: str | None
    subject: str | None
    sent_at: int
    links_total: int
    #: The copy's recipient(s): '' for a message registered without one, one address for
    #: the relay's per-recipient copies, "a@x, b@y" for a copy shared by several.
    recipient: str = ""
    #: Why the copy went out untracked or only partly tracked ("policy", "opt_out",
    #: "sensitive: card number", "DKIM-signed and no key to re-sign"), or None.
    untracked: str | None = None
    #: "full" (pixel and links), "clicks" (links only) or "none".
    tracking: str = "full"
    #: When the relay's upstream accepted the copy (Unix seconds), or None.
    relayed_at: int | None = None

    def recipients(self) -> list[str]:
        """The recipient addresses, lowercased."""
        return [r.strip().lower() for r in self.recipient.split(",") if r.strip()]


def agent_or_none(value: str | None) -> Agent | None:
    """The agent named ``value`` (as stored), or None; an unknown word is None, not an
    error, so that rows written by a newer version still read."""
    if not value:
        return None
    try:
        return Agent(value)
    except ValueError:
        return None


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    HOLD = "hold"
    SOLVED = "solved"
    CLOSED = "closed"


#: Statuses of a ticket the helpdesk no longer works on: it gets no recommendation.
DONE = frozenset({Status.SOLVED, Status.CLOSED})
#: Most urgent first, for the queue's order.
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


@dataclass(frozen=True, slots=True)
class Ticket:
    """A helpdesk's ticket. Times are Unix seconds; ``requester`` is lowercase."""

    id: str
    priority: Priority
    status: Status
    created_at: float
    updated_at: float
    subject: str | None = None
    team: str | None = None
    assignee: str | None = None
    requester: str | None = None
    solved_at: float | None = None
    source: str | None = None
    message_ids: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status not in DONE
