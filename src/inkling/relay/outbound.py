"""The relay's outgoing half, built once from the settings: copies made, then sent upstream.

Both ways mail leaves Inkling, the SMTP relay (``server.py``) and the sending API
(``POST /api/v1/messages``), go through one Outbound, so a message is instrumented, routed
to its workflow, signed and given its return paths the same way whichever door it came in.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from inkling.config import Settings
from inkling.errors import ConfigError
from inkling.relay.copies import CopyMaker
from inkling.relay.delivery import Delivery
from inkling.relay.envelope import OpenEnvelope, TransactionFactory
from inkling.relay.signing import Signer
from inkling.relay.upstream import Transaction, Upstream
from inkling.relay.workflows import Workflows
from inkling.store import Store
from inkling.tokens import TokenCodec

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

    @classmethod
    def from_settings(cls, settings: Settings, *, codec: TokenCodec, store: Store) -> Outbound:
        """Raises ConfigError for a DKIM key that cannot be used."""
        signer = None
        if settings.dkim_key_file and settings.dkim_selector and settings.dkim_domain:
            signer = Signer.from_file(
                settings.dkim_domain, settings.dkim_selector, settings.dkim_key_file
            )
        maker = CopyMaker(
            codec=codec,
            base_url=settings.base_url,
            workflows=Workflows(settings.workflows, settings.workflow_rules),
            signer=signer,
            return_domain=settings.return_domain,
            max_bytes=settings.max_message_bytes,
        )
        upstream = Upstream.from_url(settings.relay_upstream) if settings.relay_upstream else None
        return cls(
            store=store,
            maker=maker,
            upstream=upstream,
            hostname=urlsplit(settings.base_url).hostname or "inkling",
            per_recipient=settings.relay_per_recipient,
        )

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
