"""The relay's outgoing half: copies made, registered, then sent upstream.

Both ways mail leaves Inkling, the SMTP relay (``server.py``) and the sending API
(``POST /api/v1/messages``), go through one Outbound, so a message is instrumented, routed
to its workflow, signed and given its return paths the same way whichever door it came in.
"""

from __future__ import annotations

from collections.abc import Sequence

from inkling.errors import ConfigError
from inkling.relay.copies import Copy, CopyMaker, CopyPlan
from inkling.relay.delivery import Delivery
from inkling.relay.envelope import OpenEnvelope, TransactionFactory
from inkling.relay.upstream import Transaction, Upstream
from inkling.store import Store

NO_UPSTREAM = "sending mail needs INKLING_RELAY_UPSTREAM (relay_upstream), the mail server"


class Outbound:
    """Makes a message's copies and, when an upstream is configured, sends them."""

    def __init__(
        self,
        *,
        store: Store,
        maker: CopyMaker,
        upstream: Upstream | None,
        hostname: str,
        per_recipient: bool,
    ) -> None:
        self.maker = maker
        self._store = store
        #: None: no upstream configured; copies can be made but not sent.
        self.upstream = upstream
        self.hostname = hostname
        self.per_recipient = per_recipient
        self.delivery = Delivery(
            store=store,
            maker=maker,
            hostname=hostname,
            bounce_transaction=lambda: self._transaction("", []),
        )

    def register(
        self,
        raw: bytes,
        sender: str,
        plans: Sequence[CopyPlan],
        *,
        workflow: str | None = None,
        ticket: str | None = None,
    ) -> list[Copy]:
        """Make a copy per plan and register them all (one transaction), for mail that
        leaves some other way (``inkling instrument``, the API with ``send=false``, the
        demo). Blocking. Raises DuplicateMessage if a copy is registered already."""
        copies = self.maker.make(raw, sender, plans, workflow=workflow, ticket=ticket)
        self._store.messages.register_all([(c.record, c.links) for c in copies])
        return copies

    def transactions(self, sender: str, options: Sequence[str]) -> TransactionFactory:
        """The upstream-transaction factory for one envelope from ``sender`` (its copies
        get their own VERP senders); ``options`` are the MAIL parameters to pass on."""

        def transaction(ident: str, sent_at: int) -> Transaction:
            return self._transaction(self.maker.envelope_sender(sender, ident, sent_at), options)

        return transaction

    def envelope(self, sender: str, options: Sequence[str] = ()) -> OpenEnvelope:
        """A new envelope from ``sender``, its copies split as the settings say."""
        return OpenEnvelope(
            sender, per_recipient=self.per_recipient, transaction=self.transactions(sender, options)
        )

    def _transaction(self, sender: str, options: Sequence[str]) -> Transaction:
        if self.upstream is None:
            raise ConfigError(NO_UPSTREAM)
        return Transaction(
            self.upstream, local_hostname=self.hostname, sender=sender, options=options
        )
