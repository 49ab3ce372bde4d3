"""Notices between nodes on one PostgreSQL: ``NOTIFY`` on a channel, and a listener that
hands each notice to a callback (``LISTEN``). The live feed's ``recommendation.due`` events
reach every node's clients this way, whichever node announced them.

On SQLite there is one node and nothing to tell: :attr:`Notices.shared` is False and the
caller hands things on in its own process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text

from inkling.errors import StoreError
from inkling.store.engine import Database, redact

log = logging.getLogger(__name__)

#: A notice's payload is at most 8,000 bytes in PostgreSQL's default build.
MAX_NOTICE_BYTES = 7_900
#: How long the listener waits for the database before it tries to connect again.
RECONNECT_SECONDS = 2.0


class Notices:
    def __init__(self, database: Database) -> None:
        self._database = database

    @property
    def shared(self) -> bool:
        """Whether notices reach other nodes (PostgreSQL)."""
        return self._database.dialect == "postgresql"

    def send(self, channel: str, payload: str) -> None:
        """``NOTIFY channel, payload``, delivered to every listener once this commits.
        StoreError when the database cannot take it; ValueError for a payload too long."""
        if len(payload.encode()) > MAX_NOTICE_BYTES:
            raise ValueError(f"a notice holds at most {MAX_NOTICE_BYTES} bytes")
        with self._database.begin() as connection:
            notify = text("SELECT pg_notify(:channel, :payload)")
            connection.execute(notify, {"channel": channel, "payload": payload})

    def listen(self, channel: str, told: Callable[[str], None]) -> Callable[[], None]:
        """Call ``told(payload)`` for each notice on ``channel``, on a thread of its own
        that reconnects when the database goes away; returns the function that stops it.
        Notices sent while it was not connected are missed (PostgreSQL keeps none)."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self._listen, args=(channel, told, stop), name=f"listen-{channel}", daemon=True
        )
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=5)

        return halt

    def _listen(self, channel: str, told: Callable[[str], None], stop: threading.Event) -> None:
        import psycopg
        from psycopg import sql

        url = self._database.url.replace("postgresql+psycopg://", "postgresql://", 1)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    while not stop.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            told(notice.payload)
            except (psycopg.Error, OSError, StoreError) as exc:
                log.warning("notices on %s from %s: %s", channel, redact(url), exc)
                stop.wait(RECONNECT_SECONDS)
