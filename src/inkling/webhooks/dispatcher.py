"""The dispatcher: delivers the outbox on threads of its own, off the tracker's path.

Each pass looks at every subscription's head (its oldest pending row) and hands each
subscription that is due, and not already being served, to a worker of a small pool. A
worker sends that subscription's rows one at a time, in order; at the first failure it
stops, and the row waits for its retry (exponential backoff with jitter, see
``retries.py``) with the rows behind it. So a down endpoint is tried once per backoff, not
once per row; a dead or hanging one costs one worker for at most one timeout, and holds
back only its own rows. Delivery is at least once: a row is deleted after the receiver's
2xx, so a crash in between sends it again, under the same ``webhook-id``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from inkling.errors import StoreError
from inkling.store.webhooks import Due, Subscription, Webhooks
from inkling.webhooks.payloads import due_body
from inkling.webhooks.retries import RetryPolicy
from inkling.webhooks.sending import Sender

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 0.5
DEFAULT_WORKERS = 4
#: How often to look again while the database does not answer (said once in the log).
AWAY_SECONDS = 5.0
#: Rows a worker takes at a time; the next ones come in the next pass.
DEFAULT_BATCH = 200


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
        """One pass, waiting for its deliveries (tests and benchmarks); the subscriptions
        served."""
        return self._pass(wait=True)

    # -- on the dispatcher's thread --------------------------------------------------------

    def _run(self) -> None:
        away = False  # the database did not answer the last pass
        while not self._stop.is_set():
            try:
                self._pass(wait=False)
            except StoreError as exc:
                if not away:
                    log.warning("webhooks: cannot read the outbox (trying again): %s", exc)
                away = True
            except Exception:  # a bug here must not stop delivery for good
                log.exception("webhooks: the dispatcher failed; trying again")
            else:
                if away:
                    log.info("webhooks: the outbox can be read again")
                away = False
            self._wake.wait(max(self._poll, AWAY_SECONDS) if away else self._poll)
            self._wake.clear()

    def _pass(self, *, wait: bool) -> int:
        now = time.time()
        futures = []
        for subscription, head in self._webhooks.heads():
            if head is None or head > now:
                continue  # nothing pending, or resting until its retry
            with self._lock:
                if subscription.id in self._busy:
                    continue
                self._busy.add(subscription.id)
            futures.append(self._pool.submit(self._deliver_all, subscription))
        if wait:
            for future in futures:
                future.result()
        return len(futures)

    def _deliver_all(self, subscription: Subscription) -> None:
        try:
            for row in self._webhooks.due(subscription.id, time.time(), self._batch):
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
        sent_at = time.time()
        answer = self._sender.send(
            subscription.url, subscription.secret, row.event_id, body, sent_at
        )
        if answer.ok:
            self._webhooks.delivered(row.row)
            return True
        now, error = time.time(), answer.describe()
        if not self._policy.expired(row.created_at, now):
            self._webhooks.retry(row.row, body, now + self._policy.delay(row.attempts + 1), error)
            log.warning("webhooks: %s did not take %s (%s)", subscription.url, row.event_id, error)
            return False
        self._webhooks.give_up(row.row, body, error)
        older = self._webhooks.give_up_older(subscription.id, now - self._policy.horizon, error)
        log.error(
            "webhooks: gave up on %d event(s) for %s after %.0f s (%s)",
            older + 1,
            subscription.url,
            self._policy.horizon,
            error,
        )
        return False
