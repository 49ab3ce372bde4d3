"""API keys: who may call ``/api/v1``.

Each user (a helpdesk integration, a script, a person) has one key, shown once when it is
made. Only a SHA-256 digest of it is kept, in ``users.json`` in the data directory (mode
0600), so a copy of the data directory does not hand out working keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from inkling.errors import KeyStoreError

USERS_FILE = "users.json"
KEY_PREFIX = "ink_"


class ApiKeys:
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
        users[name] = {"sha256": _digest(key), "created": int(time.time())}
        self._write(users)
        return key

    def remove(self, name: str) -> None:
        users = self._read()
        if users.pop(name, None) is None:
            raise KeyStoreError(f"no user {name!r}")
        self._write(users)

    def names(self) -> list[str]:
        return sorted(self._read())

    def user_for(self, key: str) -> str | None:
        """The user whose key ``key`` is, or None."""
        digest = _digest(key)
        for name, entry in self._read().items():
            if hmac.compare_digest(str(entry.get("sha256", "")), digest):
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


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
