"""``recommendation.due``: the queue's recommendations announced once, when they fall due.

Every ``interval`` seconds, while some subscription wants ``recommendation.due``, the
triage queue is read as it stands and each recommendation due by now is published under an
id made of its ticket, action and due time: publishing is idempotent per id, so each is
announced once however often the queue is read, and again only when the recommendation
changes (a new action, or a new due time). The ids announced are remembered in the
database (``announcements``, taken in the transaction that queues the deliveries), so a
restart, or another node taking the announcer over (it runs under a lease:
``inkling/leased.py``), announces nothing twice.

The live feed: on SQLite (one node) due recommendations go straight to this process's
:class:`DueFeed`; on PostgreSQL they go out as a notice that every node's feed listens to
(``store/notices.py``), so a client of any node sees them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from inkling.errors import StoreError
from inkling.model import EVENT_ID_HEX
from inkling.playbook.queue import QueueItem, build_queue
from inkling.playbook.teams import TeamBook
from inkling.store import Store
from inkling.store.webhooks import Webhooks
from inkling.times import iso

log = logging.getLogger(__name__)

DUE = "recommendation.due"
#: The notice channel due recommendations go out on to every node's live feed.
DUE_CHANNEL = "inkling_due"
#: Due recommendations the live feed keeps for its clients to catch up on.
FEED_KEEP = 1000


class DueFeed:
    """The recommendations announced lately, numbered, for the live feed: a stream reads
    those after the last number it sent (``since``). In memory: a client that connects
    gets what falls due from then on."""

    def __init__(self, keep: int = FEED_KEEP) -> None:
        self._items: deque[tuple[int, dict[str, Any]]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._last = 0
        #: Live-feed clients connected now: with none, the queue need not be read for it.
        self.listeners = 0

    def add(self, envelope: dict[str, Any]) -> None:
        with self._lock:
            self._last += 1
            self._items.append((self._last, envelope))

    @property
    def last(self) -> int:
        return self._last

    def since(self, number: int) -> list[tuple[int, dict[str, Any]]]:
        with self._lock:
            return [(n, item) for n, item in self._items if n > number]


class DueAnnouncer:
    """Publishes due recommendations on a thread of its own."""

    def __init__(
        self,
        store: Store,
        webhooks: Webhooks,
        teams: TeamBook,
        *,
        interval: float = 60.0,
        feed: DueFeed | None = None,
        tell: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """``feed``: this process's live feed; ``tell``: where a due recommendation goes
        for the live feed of every node instead (a notice on PostgreSQL): with it, some
        node is taken to have clients watching, and the queue is always read."""
        self._store = store
        self._feed = feed
        self._tell = tell
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
        """Publish what is due at ``now`` to the webhooks that want it and to the live
        feed; how many recommendations were announced for the first time."""
        subscribed = any(s.wants(DUE) for s in self._webhooks.subscriptions())
        watched = self._tell is not None or (self._feed is not None and self._feed.listeners > 0)
        if not subscribed and not watched:
            return 0
        when = time.time() if now is None else now
        due = {due_id(item): item for item in build_queue(self._store, self._teams, at=when)}
        due = {ident: item for ident, item in due.items() if item.due_now}
        announced = 0
        for ident, item in due.items():
            if ident in self._announced:
                continue  # this process announced it: no need to ask the database
            payload = due_payload(item)
            if not self._webhooks.publish_once(DUE, ident, payload, when):
                continue  # announced before: by this node before a restart, or another
            announced += 1
            if watched:
                self._live({"type": DUE, "timestamp": iso(when), "data": payload})
        self._announced = set(due)  # what is no longer due need not be remembered
        self._webhooks.forget_announcements(when)
        return announced

    def _live(self, envelope: dict[str, Any]) -> None:
        if self._tell is not None:
            try:
                self._tell(envelope)
            except (StoreError, ValueError) as exc:  # the feed is best effort; webhooks are not
                log.warning("live feed: a due recommendation not passed on: %s", exc)
        elif self._feed is not None:
            self._feed.add(envelope)

    def _run(self) -> None:
        # at once first: a node taking the announcer over must not wait a whole interval
        while True:
            try:
                self.announce()
            except StoreError as exc:  # the database is away: try at the next turn
                log.warning("could not announce due recommendations: %s", exc)
            if self._stop.wait(self._interval):
                return


def due_id(item: QueueItem) -> str:
    """The same recommendation, due at the same time, always gets the same id."""
    r = item.recommendation
    key = f"{item.ticket.id}\n{r.action.value}\n{r.due}"
    return hashlib.sha256(key.encode()).hexdigest()[:EVENT_ID_HEX]


def due_payload(item: QueueItem) -> dict[str, Any]:
    """The queue's own JSON for the ticket (the contract's shape)."""
    return item.as_json()


def notice_of(envelope: dict[str, Any]) -> str:
    """A due recommendation's envelope as a notice's payload."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
