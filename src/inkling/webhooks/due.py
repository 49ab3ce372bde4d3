"""``recommendation.due``: the queue's recommendations announced once, when they fall due.

Every ``interval`` seconds, while some subscription wants ``recommendation.due``, the
triage queue is read as it stands and each recommendation due by now is published under an
id made of its ticket, action and due time: publishing is idempotent per id, so each is
announced once however often the queue is read, and again only when the recommendation
changes (a new action, or a new due time). The ids announced are remembered in memory (the
outbox forgets a row once delivered): after a restart each recommendation still due is
announced once more, under the same id, which receivers use to tell it is the same.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from inkling.errors import StoreError
from inkling.model import EVENT_ID_HEX
from inkling.playbook.queue import QueueItem, build_queue
from inkling.playbook.teams import TeamBook
from inkling.store import Store
from inkling.store.webhooks import Webhooks

log = logging.getLogger(__name__)

DUE = "recommendation.due"


class DueAnnouncer:
    """Publishes due recommendations on a thread of its own."""

    def __init__(
        self, store: Store, webhooks: Webhooks, teams: TeamBook, *, interval: float = 60.0
    ) -> None:
        self._store = store
        self._webhooks = webhooks
        self._teams = teams
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._announced: set[str] = set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="inkling-due", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def announce(self, now: float | None = None) -> int:
        """Publish what is due at ``now``; the deliveries queued (0 when nobody listens)."""
        if not any(s.wants(DUE) for s in self._webhooks.subscriptions()):
            return 0
        when = time.time() if now is None else now
        due = {due_id(item): item for item in build_queue(self._store, self._teams, at=when)}
        due = {ident: item for ident, item in due.items() if item.due_now}
        queued = 0
        for ident, item in due.items():
            if ident not in self._announced:
                queued += self._webhooks.publish(DUE, ident, due_payload(item), when)
        self._announced = set(due)  # what is no longer due need not be remembered
        return queued

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.announce()
            except StoreError as exc:  # the database is away: try at the next turn
                log.warning("could not announce due recommendations: %s", exc)


def due_id(item: QueueItem) -> str:
    """The same recommendation, due at the same time, always gets the same id."""
    r = item.recommendation
    key = f"{item.ticket.id}\n{r.action.value}\n{r.due}"
    return hashlib.sha256(key.encode()).hexdigest()[:EVENT_ID_HEX]


def due_payload(item: QueueItem) -> dict[str, Any]:
    """The queue's own JSON for the ticket (the contract's shape)."""
    return item.as_json()
