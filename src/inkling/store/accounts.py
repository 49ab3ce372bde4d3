"""Accounts: the people who sign in to the dashboard, and the API keys that call ``/api/v1``.

A user is found by their lowercase email; their password is an argon2 hash made by the
caller (the store never sees a password), and ``failed_logins``/``locked_until`` carry the
login lockout across restarts and nodes. A key is found by the SHA-256 of its secret: the
secret itself is never stored. What a role or a scope allows is decided in
``api/access.py``; here they are words.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from inkling.store.engine import Database
from inkling.store.schema import api_keys, users


@dataclass(frozen=True, slots=True)
class User:
    email: str
    role: str
    teams: tuple[str, ...]
    password: str | None  # an argon2 hash, None for a user who signs in nowhere
    created_at: float
    failed_logins: int
    locked_until: float | None


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    sha256: str
    scopes: tuple[str, ...]
    owner: str | None  # the user whose role and teams bound the key, None for an integration
    created_at: float
    last_used_at: float | None


class Accounts:
    def __init__(self, database: Database) -> None:
        self._database = database

    # Users

    def add_user(
        self, email: str, role: str, teams: Sequence[str], password: str | None
    ) -> User | None:
        """Make a user; None if one with that email exists (left as it was)."""
        row = {
            "email": email.lower(),
            "role": role,
            "teams": _joined(teams),
            "password": password,
            "created_at": time.time(),
            "failed_logins": 0,
        }
        with self._database.begin() as connection:
            added = connection.execute(self._insert_new(users, row)).first()
        return self.user(email) if added else None

    def user(self, email: str) -> User | None:
        with self._database.connect() as connection:
            row = connection.execute(
                select(users).where(users.c.email == email.lower())
            ).one_or_none()
        return None if row is None else _user(row)

    def users(self) -> list[User]:
        with self._database.connect() as connection:
            rows = connection.execute(select(users).order_by(users.c.email)).all()
        return [_user(row) for row in rows]

    def remove_user(self, email: str) -> bool:
        """Remove a user and the keys they own (the foreign key would too, where enforced)."""
        address = email.lower()
        with self._database.begin() as connection:
            connection.execute(delete(api_keys).where(api_keys.c.owner == address))
            return bool(connection.execute(delete(users).where(users.c.email == address)).rowcount)

    def set_password(self, email: str, password: str | None) -> bool:
        return self._update_user(email, password=password)

    def count_failure(self, email: str, lock: Callable[[int], float | None]) -> User | None:
        """Count a failed sign-in; ``lock(failures)`` says until when the account is then
        locked (None: not locked). One transaction, so two nodes count every failure."""
        address = email.lower()
        with self._database.begin() as connection:
            failures = connection.execute(
                update(users)
                .where(users.c.email == address)
                .values(failed_logins=users.c.failed_logins + 1)
                .returning(users.c.failed_logins)
            ).scalar_one_or_none()
            if failures is None:
                return None
            connection.execute(
                update(users).where(users.c.email == address).values(locked_until=lock(failures))
            )
        return self.user(address)

    def clear_failures(self, email: str) -> bool:
        """After a sign-in, or ``inkling users unlock``: no failures, no lock."""
        return self._update_user(email, failed_logins=0, locked_until=None)

    def _update_user(self, email: str, **values: Any) -> bool:
        with self._database.begin() as connection:
            return bool(
                connection.execute(
                    update(users).where(users.c.email == email.lower()).values(**values)
                ).rowcount
            )

    # API keys

    def add_key(
        self, ident: str, name: str, sha256: str, scopes: Sequence[str], owner: str | None
    ) -> ApiKey | None:
        """Keep a key's digest; None if the name (or the digest) is taken."""
        row = {
            "id": ident,
            "name": name,
            "sha256": sha256,
            "scopes": _joined(scopes),
            "owner": owner.lower() if owner else None,
            "created_at": time.time(),
        }
        with self._database.begin() as connection:
            added = connection.execute(self._insert_new(api_keys, row)).first()
        return self.key_named(name) if added else None

    def key_for_digest(self, sha256: str) -> ApiKey | None:
        """The key whose secret has this SHA-256 (an indexed look-up: the digest, not the
        secret, is what the database compares)."""
        return self._key(api_keys.c.sha256 == sha256)

    def key_named(self, name: str) -> ApiKey | None:
        return self._key(api_keys.c.name == name)

    def api_keys(self) -> list[ApiKey]:
        with self._database.connect() as connection:
            rows = connection.execute(select(api_keys).order_by(api_keys.c.name)).all()
        return [_key(row) for row in rows]

    def revoke_key(self, name: str) -> bool:
        with self._database.begin() as connection:
            return bool(
                connection.execute(delete(api_keys).where(api_keys.c.name == name)).rowcount
            )

    def touch_key(self, ident: str, at: float) -> None:
        with self._database.begin() as connection:
            connection.execute(
                update(api_keys).where(api_keys.c.id == ident).values(last_used_at=at)
            )

    def _key(self, condition: Any) -> ApiKey | None:
        with self._database.connect() as connection:
            row = connection.execute(select(api_keys).where(condition)).one_or_none()
        return None if row is None else _key(row)

    def _insert_new(self, table: Any, row: dict[str, Any]) -> Any:
        """An INSERT that does nothing where any unique key is taken (both dialects),
        returning the row's key when it did insert: psycopg counts such an INSERT as -1
        rows whether it inserted or not, so the row count cannot tell."""
        statement = self._database.insert(table).values(**row).on_conflict_do_nothing()
        return statement.returning(*table.primary_key.columns)


def _joined(words: Sequence[str]) -> str:
    return ",".join(words)


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(word for word in (text or "").split(",") if word)


def _user(row: Any) -> User:
    return User(
        row.email,
        row.role,
        _split(row.teams),
        row.password,
        row.created_at,
        row.failed_logins,
        row.locked_until,
    )


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id,
        row.name,
        row.sha256,
        _split(row.scopes),
        row.owner,
        row.created_at,
        row.last_used_at,
    )
