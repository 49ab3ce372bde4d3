"""The dispatcher: delivers the outbox on threads of its own, off the tracker's path.

A pass takes the rows due (oldest first) and hands each subscription's rows, in order, to
a worker of a small pool. A subscription's rows go one at a time; at the first failure its
worker stops, the row is set to try again after the policy's backoff and the subscription
rests until then (rows of a down endpoint are not tried one by one). So a dead or hanging
endpoint costs one worker for one timeout and holds back only its own rows; the others'
go on. Delivery is at least once: a row is marked delivered after the receiver's 2xx, so a
crash in between sends it again, under the same ``webhook-id``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from inkling.errors import StoreError
from inkling.store.webhooks import KEEP_DELIVERED_SECONDS, Due, Subscription, Webhooks
from inkling.webhooks.payloads import due_body
from inkling.webhooks.retries import RetryPolicy
from inkling.webhooks.sending import Sender

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 0.5
DEFAULT_WORKERS = 4
#: Rows a pass takes at most; a busy subscription's next rows come in the next pass.
DEFAULT_BATCH = 200
PRUNE_SECONDS = 3600.0


class Dispatcher:
    """Delivers ``webhooks``' outbox through ``sender``; see the module docstring."""

    def __init__(
        self,
        webhooks: Webhooks,
        sender: Sender | None = None,
        *,
        policy: RetryPolicy | None = None,
        poll: float = DEFAULT_POLL_SECONDS,
        workers: int = DEFAULT_WORKERS,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self._webhooks = webhooks
        self._sender = sender or Sender()
        self._policy = policy or RetryPolicy()
        self._poll = poll
        self._batch = batch
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="inkling-webhook")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inkling-webhooks", daemon=True)
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._resting: dict[str, float] = {}  # subscription -> when to try it again
        self._failures: dict[str, int] = defaultdict(int)  # in a row, per subscription
        self._pruned = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop taking rows; a delivery under way finishes (at most one timeout)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._sender.close()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    def run_once(self) -> int:
        """One pass, waiting for its deliveries (tests and benchmarks); rows handed out."""
        handed = self._pass(wait=True)
        return handed

    # -- on the dispatcher's thread --------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._pass(wait=False)
                self._prune()
            except StoreError as exc:
                log.warning("webhooks: cannot read the outbox: %s", exc)
            except Exception:  # a bug here must not stop delivery for good
                log.exception("webhooks: the dispatcher failed; trying again")
            self._wake.wait(self._poll)
            self._wake.clear()

    def _pass(self, *, wait: bool) -> int:
        now = time.time()
        with self._lock:
            self._resting = {s: t for s, t in self._resting.items() if t > now}
            skip = self._busy | set(self._resting)
        due = self._webhooks.due(now, self._batch, skip)
        if not due:
            return 0
        subscriptions = {s.id: s for s in self._webhooks.subscriptions()}
        groups: dict[str, list[Due]] = defaultdict(list)
        for row in due:
            groups[row.subscription].append(row)
        futures = []
        for ident, rows in groups.items():
            subscription = subscriptions.get(ident)
            if subscription is None:
                continue  # removed meanwhile: its rows went with it
            with self._lock:
                self._busy.add(ident)
            futures.append(self._pool.submit(self._deliver_all, subscription, rows))
        if wait:
            for future in futures:
                future.result()
        return len(due)

    def _deliver_all(self, subscription: Subscription, rows: list[Due]) -> None:
        try:
            for row in rows:
                if self._stop.is_set() or not self._deliver(subscription, row):
                    break
        except StoreError as exc:
            log.warning("webhooks: cannot record a delivery to %s: %s", subscription.id, exc)
        finally:
            with self._lock:
                self._busy.discard(subscription.id)

    def _deliver(self, subscription: Subscription, row: Due) -> bool:
        """Send one row and record the outcome; whether it was delivered."""
        body = due_body(row)
        answer = self._sender.send(
            subscription.url, subscription.secret, row.event_id, body, time.time()
        )
        now = time.time()
        if answer.ok:
            self._webhooks.delivered(row.row, body, now)
            self._failures.pop(subscription.id, None)
            return True
        error = answer.describe()
        if self._policy.expired(row.created_at, now):
            self._webhooks.give_up(row.row, body, error)
        else:
            self._failures[subscription.id] += 1
            wait = self._policy.delay(max(self._failures[subscription.id], row.attempts + 1))
            self._webhooks.retry(row.row, body, now + wait, error)
            with self._lock:
                self._resting[subscription.id] = now + wait
        horizon = now - self._policy.horizon
        given_up = self._webhooks.give_up_older(subscription.id, horizon, error)
        log.warning(
            "webhooks: %s did not take %s (%s)%s",
            subscription.url,
            row.event_id,
            error,
            f"; gave up on {given_up} older event(s)" if given_up else "",
        )
        return False

    def _prune(self) -> None:
        now = time.time()
        if now - self._pruned >= PRUNE_SECONDS:
            self._pruned = now
            self._webhooks.prune(now - KEEP_DELIVERED_SECONDS)
