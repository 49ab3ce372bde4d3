"""The dashboard's session cookie and CSRF tokens, signed with a key kept in the data dir.

A session is a signed cookie, not a row: any node sharing the data dir's ``session.key``
reads it, and nothing is written per sign-in. It names the user and when they signed in,
and carries a fingerprint of their password hash, so a new password (or removing the user)
ends every session at once; it lasts :data:`SESSION_SECONDS` at most. What the user may do
is read from the database on each request, never from the cookie.

CSRF: each browser gets a random ``inkling_csrf`` cookie; a form carries the HMAC of it
under the session key. A page of another site can make the browser send the cookie, but
cannot read it to compute the token, so its forged form fails (the signed double-submit
pattern). The same token in an ``X-CSRF-Token`` header lets a script of the dashboard call
the API's write routes with the session.

A device cookie marks a browser where a user signed in before (see ``web/login.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inkling.errors import KeyStoreError

SESSION_COOKIE = "inkling_session"
CSRF_COOKIE = "inkling_csrf"
#: Marks a browser where a user signed in before: their lockout does not apply to it
#: (web/login.py).
DEVICE_COOKIE = "inkling_device"
DEVICE_SECONDS = 365 * 86400
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: A session ends this long after sign-in, however busy (12 hours: a working day).
SESSION_SECONDS = 12 * 3600
_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Claim:
    """What a valid session cookie says: who, since when, and which password."""

    email: str
    issued_at: float
    fingerprint: str


class Sessions:
    def __init__(
        self,
        key: bytes,
        *,
        secure: bool = False,
        lifetime: float = SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        #: Whether cookies get the Secure flag (the base URL is https).
        self.secure = secure
        self.lifetime = lifetime
        self._clock = clock

    @classmethod
    def for_key_file(cls, path: Path, *, secure: bool = False) -> Sessions:
        return cls(load_or_create_key(path), secure=secure)

    def issue(self, email: str, password_hash: str | None) -> str:
        """The cookie value for a user who just signed in."""
        name = _b64(email.lower().encode())
        body = f"{_VERSION}.{name}.{int(self._clock())}.{self.fingerprint(password_hash)}"
        return f"{body}.{self._sign(body)}"

    def read(self, cookie: str | None) -> Claim | None:
        """The claim of a cookie that is signed by this key and not expired, else None."""
        if not cookie or len(cookie) > 1024:
            return None
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            version, name, issued, fingerprint = body.split(".")
            email = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
            issued_at = float(issued)
        except ValueError:  # signed by us, so only a format of another version lands here
            return None
        age = self._clock() - issued_at
        if version != _VERSION or not 0 <= age < self.lifetime:
            return None
        return Claim(email, issued_at, fingerprint)

    def fingerprint(self, password_hash: str | None) -> str:
        """A short keyed digest of the password hash: it changes when the password does."""
        return self._sign(f"password:{password_hash or ''}")[:22]

    def new_csrf_cookie(self) -> str:
        return secrets.token_urlsafe(32)

    def csrf_token(self, csrf_cookie: str) -> str:
        """The token forms carry for the browser holding ``csrf_cookie``."""
        return self._sign(f"csrf:{csrf_cookie}")

    def csrf_ok(self, csrf_cookie: str | None, token: str | None) -> bool:
        if not csrf_cookie or not token:
            return False
        return hmac.compare_digest(self.csrf_token(csrf_cookie), token)

    def device_token(self, email: str) -> str:
        """The device cookie of a browser where ``email`` signed in."""
        return self._sign(f"device:{email.lower()}")

    def device_ok(self, cookie: str | None, email: str) -> bool:
        return bool(cookie) and hmac.compare_digest(self.device_token(email), cookie or "")

    def _sign(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode(), hashlib.sha256).digest())


def load_or_create_key(path: Path) -> bytes:
    """The session key at ``path`` (made on first use, mode 0600; every node shares it).
    A new key is written aside and linked into place, so a second process starting at the
    same moment reads the first one's whole key, never half of it."""
    if not path.exists():
        _create_key(path)
    try:
        key = bytes.fromhex(path.read_text("ascii").strip())
    except (OSError, ValueError) as exc:
        raise KeyStoreError(f"cannot read the session key {path}: {exc}") from exc
    if len(key) < 32:
        raise KeyStoreError(f"the session key {path} is too short; delete it to make a new one")
    return key


def _create_key(path: Path) -> None:
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        os.link(staging, path)
    except FileExistsError:
        pass  # another process made it first: theirs is the key
    except OSError as exc:
        raise KeyStoreError(f"cannot make the session key {path}: {exc.strerror or exc}") from exc
    finally:
        staging.unlink(missing_ok=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
