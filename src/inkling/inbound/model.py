"""What a parsed inbound message is: a closed vocabulary of kinds plus the evidence found.

The dataclasses are the parser's answer; ``Parsed.as_json()`` gives the ``inkling parse``
contract of DESIGN.md (without ``file``), leaving out every key that does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["mdn", "bounce", "complaint", "autoreply", "reply", "delivered", "other"]
BounceClass = Literal["hard", "soft"]
#: Who can fix a bounce (``reasons.toml``): the agent (the address), the customer (their
#: mailbox, filter or account), our own sending, or nobody (it passes).
Owner = Literal["agent", "customer", "sender", "transient"]
AutoReplyKind = Literal["vacation", "auto"]


@dataclass(frozen=True, slots=True)
class Bounce:
    """A failed or delayed delivery, read for a support agent.

    ``final`` is ``False`` for a delay notice (the mail system still tries); ``bounce_class``
    ``hard`` when the address itself is wrong; ``reason`` one word of sisimai's vocabulary
    (``userunknown``, ``mailboxfull``, ...); ``owner`` who can fix it; ``status`` an RFC 3463
    code (``5.1.1``); ``recipients`` every failed address, the one the mail was sent to first.
    """

    final: bool
    bounce_class: BounceClass
    status: str
    reason: str
    owner: Owner
    recipients: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"final": self.final, "class": self.bounce_class}
        out |= {"reason": self.reason, "owner": self.owner, "status": self.status}
        if self.recipients:
            out["recipient"] = self.recipients[0]
        out["recipients"] = list(self.recipients)
        return out


@dataclass(frozen=True, slots=True)
class Mdn:
    """A read receipt (RFC 8098): what happened to the mail, and whether a person chose it."""

    disposition: str
    automatic: bool

    def as_json(self) -> dict[str, Any]:
        return {"disposition": self.disposition, "automatic": self.automatic}


@dataclass(frozen=True, slots=True)
class AutoReply:
    """An automatic answer: ``vacation`` (out of office) or any other ``auto`` responder."""

    kind: AutoReplyKind
    until: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.until:
            out["until"] = self.until
        return out


@dataclass(frozen=True, slots=True)
class Parsed:
    """One inbound message, classified.

    ``evidence`` says in words why the kind was chosen (for people and for debugging);
    ``defects`` lists what was malformed in the mail. Neither is part of the JSON contract
    unless there are defects, which are reported so malformed input is visible.
    """

    kind: Kind
    in_reply_to: str | None = None
    bounce: Bounce | None = None
    mdn: Mdn | None = None
    autoreply: AutoReply | None = None
    evidence: tuple[str, ...] = ()
    defects: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """The ``inkling parse`` line for this message (keys absent when they do not apply)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.in_reply_to:
            out["in_reply_to"] = self.in_reply_to
        if self.bounce is not None:
            out["bounce"] = self.bounce.as_json()
        if self.mdn is not None:
            out["mdn"] = self.mdn.as_json()
        if self.autoreply is not None:
            out["autoreply"] = self.autoreply.as_json()
        if self.defects:
            out["defects"] = list(self.defects)
        return out
