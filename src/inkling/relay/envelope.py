"""The client's transaction as it grows, MAIL then RCPT by RCPT, mirrored upstream.

Each accepted recipient is passed on to the upstream at once, so the client's RCPT gets
the upstream's own answer: a recipient the upstream refuses is refused to the client, for
that recipient alone, and the others go on. With one copy per recipient, every recipient
gets an upstream transaction of its own (the copies differ, and so do their VERP senders).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from inkling.model import InklingId
from inkling.relay.copies import CopyPlan
from inkling.relay.upstream import Reply, Transaction
from inkling.tokens import new_message_id

#: RFC 5321 4.5.3.1.8: a server must take at least 100 recipients; beyond, the client
#: sends the rest in another transaction (452 tells it so).
MAX_RECIPIENTS = 100


@dataclass(slots=True)
class OpenCopy:
    """A copy being built: its id and send time, and its upstream transaction."""

    id: InklingId
    sent_at: int
    transaction: Transaction

    def plan(self) -> CopyPlan:
        return CopyPlan(self.id, self.sent_at, list(self.transaction.recipients))


#: Makes the upstream transaction of a new copy from its id and send time.
TransactionFactory = Callable[[str, int], Transaction]


class OpenEnvelope:
    """MAIL and the RCPTs so far, and the copies opened upstream for them."""

    def __init__(self, sender: str, *, per_recipient: bool, transaction: TransactionFactory):
        self.sender = sender
        self._per_recipient = per_recipient
        self._transaction = transaction
        self.copies: list[OpenCopy] = []
        self._named: set[str] = set()

    @property
    def recipients(self) -> int:
        return sum(len(copy.transaction.recipients) for copy in self.copies)

    async def add(self, recipient: str) -> Reply:
        """Pass one RCPT upstream; the upstream's answer (or 451 if it is unreachable)."""
        if self.recipients >= MAX_RECIPIENTS:
            return Reply(452, "4.5.3 too many recipients; send the rest in another message")
        if recipient.lower() in self._named:  # one copy per recipient, however often named
            return Reply(250, "2.1.5 recipient named before; it gets one copy")
        if self.copies and not self._per_recipient:
            reply = await self.copies[0].transaction.add_recipient(recipient)
            if reply.ok:
                self._named.add(recipient.lower())
            return reply
        ident, sent_at = new_message_id(), int(time.time())
        copy = OpenCopy(ident, sent_at, self._transaction(ident, sent_at))
        reply = await copy.transaction.add_recipient(recipient)
        if reply.ok:
            self._named.add(recipient.lower())
        if reply.ok or not self._per_recipient:
            self.copies.append(copy)
        else:
            await copy.transaction.close()
        return reply

    def accepted(self) -> list[OpenCopy]:
        """The copies with at least one recipient the upstream accepted."""
        return [copy for copy in self.copies if copy.transaction.recipients]

    async def abort(self) -> None:
        """Abandon every upstream transaction: nothing of this message is sent."""
        for copy in self.copies:
            await copy.transaction.close()
        self.copies.clear()
        self._named.clear()
