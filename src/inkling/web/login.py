"""Signing in: the password check, the rate limits and the lockout, in one place.

Three brakes, from the quickest to the most lasting:

- per client address: :attr:`LoginPolicy.per_address` attempts a window (429), whichever
  accounts they aim at, so one machine cannot spray passwords;
- per account: :attr:`LoginPolicy.per_account` attempts a window (429), so many machines
  cannot rush one account;
- the lockout, kept in the database (so it spans restarts and nodes): after
  ``lock_after`` failures in a row the account is locked for ``first_lock`` seconds, each
  further failure doubles it, up to ``max_lock`` (15 minutes). It is always temporary:
  a failure while locked is not counted and does not lengthen the lock, and ``inkling
  users unlock EMAIL`` lifts it at once.

So that a guesser cannot keep an admin out by failing on purpose every 15 minutes, a
browser where that user signed in before carries a signed device cookie
(``Sessions.device_token``), and the per-account limit and the lockout do not apply to
it: the owner signs in from their own browser while the guesser stays locked out.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from inkling.store.accounts import Accounts, User
from inkling.store.audit import AuditLog
from inkling.web.limits import RateLimit
from inkling.web.passwords import Passwords

#: Argon2 takes 64 MiB and a quarter of a second a check: at most this many at once.
CONCURRENT_CHECKS = 2


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    lock_after: int = 5
    first_lock: float = 60.0
    max_lock: float = 15 * 60.0
    per_address: tuple[int, float] = (20, 300.0)  # attempts, seconds
    per_account: tuple[int, float] = (10, 300.0)

    def lock_seconds(self, failures: int) -> float | None:
        """How long ``failures`` failures in a row lock the account (None: not yet)."""
        if failures < self.lock_after:
            return None
        doublings = min(failures - self.lock_after, 16)
        return min(self.max_lock, self.first_lock * float(2**doublings))


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # wrong address or password (never which)
    LOCKED = "locked"
    LIMITED = "limited"


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    user: User | None = None
    retry_after: float = 0.0  # seconds, for LOCKED and LIMITED


class Logins:
    def __init__(
        self,
        accounts: Accounts,
        audit: AuditLog,
        passwords: Passwords | None = None,
        policy: LoginPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._accounts = accounts
        self._audit = audit
        self._passwords = passwords or Passwords()
        self.policy = policy or LoginPolicy()
        self._clock = clock
        self._by_address = RateLimit(*self.policy.per_address, clock=clock)
        self._by_account = RateLimit(*self.policy.per_account, clock=clock)
        self._checks = threading.BoundedSemaphore(CONCURRENT_CHECKS)

    def attempt(self, email: str, password: str, address: str, *, known_device: bool) -> Attempt:
        """Try to sign ``email`` in from ``address``. Blocks for the password check (call
        it from a worker thread)."""
        email = email.strip().lower()
        wait = self._by_address.hit(address)
        if not wait and not known_device:
            wait = self._by_account.hit(email)
        if wait:
            return Attempt(Outcome.LIMITED, retry_after=wait)
        user = self._accounts.user(email) if email else None
        now = self._clock()
        if user and user.locked_until and user.locked_until > now and not known_device:
            return Attempt(Outcome.LOCKED, user, retry_after=user.locked_until - now)
        with self._checks:
            right = self._passwords.verify(password, user.password if user else None)
        if user is None:
            return Attempt(Outcome.WRONG)
        if right:
            if user.failed_logins or user.locked_until:
                self._accounts.clear_failures(email)
            return Attempt(Outcome.SIGNED_IN, user)
        self._count_failure(user, now)
        return Attempt(Outcome.WRONG)

    def _count_failure(self, user: User, now: float) -> None:
        def lock(failures: int) -> float | None:
            seconds = self.policy.lock_seconds(failures)
            return None if seconds is None else now + seconds

        counted = self._accounts.count_failure(user.email, lock)
        if counted is not None and counted.locked_until is not None:
            self._audit.record(
                actor="web",
                action="users.lockout",
                target=user.email,
                details={
                    "failures": counted.failed_logins,
                    "seconds": round(counted.locked_until - now),
                },
            )
