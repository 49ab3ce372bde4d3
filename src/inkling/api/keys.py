"""API keys: made, hashed, and carried over from the ``users.json`` of older versions.

A key is ``ink_`` and 43 random URL-safe characters (256 bits), shown once when it is made.
Only its SHA-256 is kept, in the ``api_keys`` table, so a copy of the database or of a
backup does not hand out working keys; what a key may do is its scopes (``api/access.py``).

Before scopes, each key lived in ``users.json`` in the data dir, and any key could call
every route. Such keys keep working: the first time the API or ``inkling users`` meets the
file, its keys are imported into ``api_keys`` with scope ``*`` (what they could do before),
a log line says so, and the file is renamed ``users.json.imported``. :class:`ApiKeys`
still reads and writes that file, for the import and for tests that start from an old
data dir.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inkling.errors import KeyStoreError
from inkling.store.accounts import Accounts, ApiKey

log = logging.getLogger(__name__)

USERS_FILE = "users.json"
KEY_PREFIX = "ink_"
#: Scope of an imported key: all, as every key could before scopes.
LEGACY_SCOPE = "*"


def digest(key: str) -> str:
    """The SHA-256 kept of a key (hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MadeKey:
    """A key just made: its record, and its secret (shown this once, kept nowhere)."""

    record: ApiKey
    secret: str


def make_key(
    accounts: Accounts, name: str, scopes: tuple[str, ...], owner: str | None = None
) -> MadeKey | None:
    """Make a key named ``name``; None if a key has that name. The scopes are taken as
    given: ``api/access.py`` checks them first."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = accounts.add_key(secrets.token_hex(8), name, digest(secret), scopes, owner)
    return None if record is None else MadeKey(record, secret)


class ApiKeys:
    """The ``users.json`` file of versions before scopes: name -> digest of the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> ApiKeys:
        return cls(data_dir / USERS_FILE)

    def add(self, name: str) -> str:
        """Make a key for ``name`` and return it (the only time it is shown)."""
        users = self._read()
        if name in users:
            raise KeyStoreError(f"user {name!r} exists; remove it first to give a new key")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        users[name] = {"sha256": digest(key), "created": int(time.time())}
        self._write(users)
        return key

    def remove(self, name: str) -> None:
        users = self._read()
        if users.pop(name, None) is None:
            raise KeyStoreError(f"no user {name!r}")
        self._write(users)

    def names(self) -> list[str]:
        return sorted(self._read())

    def digests(self) -> dict[str, str]:
        """Each name's key digest, as the file holds them."""
        return {name: str(entry.get("sha256", "")) for name, entry in self._read().items()}

    def user_for(self, key: str) -> str | None:
        """The user whose key ``key`` is, or None."""
        wanted = digest(key)
        for name, found in self.digests().items():
            if hmac.compare_digest(found, wanted):
                return name
        return None

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"cannot read {self.path}: {exc}") from exc
        if not isinstance(data, dict):
            raise KeyStoreError(f"{self.path} is not a JSON object")
        return data

    def _write(self, users: dict[str, dict[str, object]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_suffix(".tmp")
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(users, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        staging.replace(self.path)


class LegacyImport:
    """Imports ``users.json`` into ``api_keys`` when it appears (checked on each use: a
    ``stat``, a microsecond), then renames it so it is read once."""

    def __init__(
        self, path: Path, accounts: Accounts, *, announce: Callable[[str], None] = log.warning
    ) -> None:
        self._file = ApiKeys(path)
        self._accounts = accounts
        self._announce = announce
        self._lock = threading.Lock()

    def run(self) -> int:
        """Import the file if it is there; the number of keys imported."""
        if not self._file.path.exists():
            return 0
        with self._lock:
            if not self._file.path.exists():
                return 0
            imported = [name for name, sha in self._file.digests().items() if self._take(name, sha)]
            done = self._file.path.with_name(self._file.path.name + ".imported")
            self._file.path.replace(done)
        self._announce(
            f"imported {len(imported)} API key(s) from {self._file.path} with scope * (full "
            f"access, as before); the file is now {done.name}. Narrow them: inkling users key "
            "create NAME --scope SCOPE, then revoke the old one (docs/access.md)"
        )
        return len(imported)

    def _take(self, name: str, sha256: str) -> bool:
        """One key, under its own name (or ``NAME-legacy`` if a newer key took the name);
        False if the digest is already there (imported by another node)."""
        if not sha256 or self._accounts.key_for_digest(sha256) is not None:
            return False
        for candidate in (name, f"{name}-legacy", f"{name}-legacy-{secrets.token_hex(2)}"):
            if self._accounts.add_key(
                secrets.token_hex(8), candidate, sha256, (LEGACY_SCOPE,), None
            ):
                return True
        return False
