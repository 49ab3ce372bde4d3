"""The long-lived pieces a running Inkling is made of, opened once from the settings.

Kept apart from the server so that commands which need only the store and the token keys
(``inkling instrument``, ``inkling reading``) do not load the web stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from inkling.config import Settings
from inkling.store import Store
from inkling.tokens import TokenCodec


@dataclass
class Services:
    """The long-lived pieces a running Inkling is made of."""

    settings: Settings
    store: Store
    codec: TokenCodec

    @classmethod
    def open(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            store=Store(settings.effective_database_url),
            codec=TokenCodec.for_data_dir(settings.data_dir),
        )
