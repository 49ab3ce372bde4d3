"""``ImapPoller``: replies customers send to the support mailbox, read without touching it.

Customers answer the agent's address, not Inkling's return domain, so their replies land
in the team's mailbox. The poller looks at that mailbox every ``interval`` seconds and hands
each new message's exact bytes to ``deliver(raw, [])``. It never changes the mailbox (see
``imapsession``: EXAMINE and ``BODY.PEEK[]`` only), so agents find their mail as they left
it, unread mail still unread.

Each message is delivered once: after each one, UIDVALIDITY, the UID and its date are
written to ``state_file`` (atomically), so neither a new round nor a restart repeats it
(``imapstate`` has the rule for a changed UIDVALIDITY). On the very first poll (no state
file) every message in the mailbox is delivered, oldest first: what does not answer a
message Inkling sent is recognised as unrelated downstream.

Failures never end the thread. If ``deliver`` raises, the round stops at that message and
the next round starts with it again. Network and server errors are logged and the next
round waits longer each time (up to 15 minutes), back to ``interval`` after a success.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
from pathlib import Path

from inkling.inbound import imapstate
from inkling.inbound.imapsession import ImapProtocolError, ImapUrl, ReadOnlySession, Summary
from inkling.inbound.imapstate import PollState, StateError
from inkling.inbound.server import Deliver

log = logging.getLogger(__name__)

MAX_BACKOFF = 900.0
#: Summaries are asked for this many UIDs at a time after a UIDVALIDITY change.
_CHUNK = 500
_NETWORK_ERRORS = (OSError, imaplib.IMAP4.error, ImapProtocolError, ValueError)


class _RoundOver(Exception):
    """Ends a round early: ``deliver`` failed, or the poller is stopping."""


class ImapPoller:
    """Delivers each new message of one IMAP mailbox once; see the module's docstring.

    ``url`` is ``imaps://user:password@host:993/INBOX`` (or ``imap+starttls://``,
    ``imap://``; user and password URL-encoded). ``max_bytes``: larger messages are
    skipped with a warning (the inbound MX refuses them too). ``ssl_context`` replaces the
    default, certificate-verifying one.
    """

    def __init__(
        self,
        url: str,
        deliver: Deliver,
        state_file: Path | str,
        *,
        interval: float = 60.0,
        max_bytes: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.url = ImapUrl.parse(url)
        self._deliver = deliver
        self._state_file = Path(state_file)
        self._interval = interval
        self._max_bytes = max_bytes
        self._ssl_context = ssl_context
        self._failures = 0
        self._count = 0
        self._poll_lock = threading.Lock()
        self._session_lock = threading.Lock()
        self._session: ReadOnlySession | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Poll now and then every ``interval`` seconds, in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("the poller was already started")
        self._thread = threading.Thread(target=self._run, name="inkling-imap", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (cutting a round under way short) and wait for the thread."""
        self._stopping.set()
        with self._session_lock:
            if self._session is not None:
                self._session.abort()
        if self._thread is not None:
            self._thread.join()

    def poll_once(self) -> int:
        """One round: deliver what is new; returns how many messages were delivered.

        Never raises for network, server, state-file or ``deliver`` failures: they are
        logged, and the next round tries again.
        """
        with self._poll_lock:
            self._count = 0
            try:
                self._round()
            except _RoundOver:
                self._failures += 1
            except StateError as exc:
                self._failures += 1
                log.error("IMAP poller not polling %s: %s", self.url, exc)
            except _NETWORK_ERRORS as exc:
                self._failures += 1
                if not self._stopping.is_set():
                    log.warning(
                        "IMAP poll of %s failed (%s: %s); next try in %.0f s",
                        self.url, type(exc).__name__, exc, self.next_wait(),
                    )  # fmt: skip
            else:
                self._failures = 0
            return self._count

    def next_wait(self) -> float:
        """Seconds until the next round: ``interval``, doubled for each failure in a row."""
        if not self._failures:
            return self._interval
        return min(
            self._interval * 2.0 ** min(self._failures, 16), max(MAX_BACKOFF, self._interval)
        )

    # -- one round -------------------------------------------------------------------------

    def _round(self) -> None:
        state = imapstate.load(self._state_file)
        session = ReadOnlySession(self.url, ssl_context=self._ssl_context)
        with self._session_lock:
            self._session = session
        try:
            if self._stopping.is_set():
                raise _RoundOver
            if state is None:
                state = PollState(session.uidvalidity)
            if state.uidvalidity == session.uidvalidity:
                self._newer_uids(session, state)
            else:
                self._resync(session, state)
        finally:
            with self._session_lock:
                self._session = None
            session.close()

    def _newer_uids(self, session: ReadOnlySession, state: PollState) -> None:
        """The usual round: every message above the last UID delivered, in UID order."""
        if not session.exists:
            return
        for summary in session.summaries(f"{state.uid + 1}:*"):
            if summary.uid > state.uid:  # "n:*" always includes the highest UID
                self._one(session, state, summary, resync=False)

    def _resync(self, session: ReadOnlySession, state: PollState) -> None:
        """UIDVALIDITY changed: deliver by date (``imapstate``), then adopt the new UIDs."""
        log.warning(
            "UIDVALIDITY of %s changed (%d to %d): delivering messages newer than the last one",
            self.url, state.uidvalidity, session.uidvalidity,
        )  # fmt: skip
        highest = session.highest_uid() if session.exists else 0
        if not highest:
            candidates = []
        elif state.since is None:
            candidates = session.summaries(f"1:{highest}")
        else:
            uids = session.uids_since(state.since, highest)
            candidates = [
                summary
                for start in range(0, len(uids), _CHUNK)
                for summary in session.summaries(",".join(map(str, uids[start : start + _CHUNK])))
                if summary.date >= state.since
            ]
        # in date order, so that an interrupted resync resumes by the same date rule
        for summary in sorted(candidates, key=lambda s: (s.date, s.uid)):
            self._one(session, state, summary, resync=True)
        imapstate.save(
            self._state_file,
            PollState(session.uidvalidity, highest, state.since, state.since_keys),
        )

    def _one(
        self, session: ReadOnlySession, state: PollState, summary: Summary, *, resync: bool
    ) -> None:
        """Deliver one message and remember it; raises _RoundOver if the round must end."""
        if self._stopping.is_set():
            raise _RoundOver
        uid = None if resync else summary.uid  # during a resync, UIDs are not yet ours
        if self._max_bytes is not None and summary.size > self._max_bytes:
            log.warning(
                "skipping UID %d of %s: %d bytes is over the limit",
                summary.uid,
                self.url,
                summary.size,
            )
            state.record(summary.date, f"oversize:{summary.uid}", uid)
            imapstate.save(self._state_file, state)
            return
        raw = session.body(summary.uid)
        if raw is None:  # expunged by someone else since the summary
            return
        key = imapstate.message_key(raw)
        if resync and not state.is_new(summary.date, key):
            return
        try:
            self._deliver(raw, [])
        except Exception as exc:
            log.exception(
                "delivering UID %d of %s failed; it is retried next round", summary.uid, self.url
            )
            raise _RoundOver from exc
        state.record(summary.date, key, uid)
        imapstate.save(self._state_file, state)
        self._count += 1

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # a bug must not end polling for good
                self._failures += 1
                log.exception("IMAP poller round failed unexpectedly")
            self._stopping.wait(self.next_wait())
