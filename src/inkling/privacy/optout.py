"""Opt-outs by address or domain, looked up by a keyed digest.

An opt-out is found by HMAC-SHA256 of the lowercase address (or ``@domain``) under a key
kept in the data dir, so the store can keep a person untracked after their address is
erased: the digest is no plain hash a list of addresses could be checked against.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from inkling.errors import ConfigError

_KEY_BYTES = 32


class OptOutKey:
    """Digests of addresses and domains (see the module docstring)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def load_or_create(cls, path: Path) -> OptOutKey:
        """The key in ``path`` (hex), made (mode 0600) when missing."""
        try:
            return cls(bytes.fromhex(path.read_text("ascii").strip()))
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the privacy key {path}: {exc}") from exc
        secret = secrets.token_bytes(_KEY_BYTES)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return cls.load_or_create(path)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secret.hex() + "\n")
            out.flush()
            os.fsync(out.fileno())
        return cls(secret)

    def digest(self, target: str) -> str:
        """The digest of an address or ``@domain`` as :func:`target_of` wrote it."""
        return hmac.new(self._secret, target.encode("utf-8"), hashlib.sha256).hexdigest()

    def digests_for(self, addresses: Iterable[str]) -> list[str]:
        """The digests that opt ``addresses`` out: each one's own, then its domain's."""
        digests: list[str] = []
        for address in addresses:
            lowered = address.strip().lower()
            if not lowered:
                continue
            digests.append(self.digest(lowered))
            domain = lowered.rpartition("@")[2]
            if domain:
                digests.append(self.digest("@" + domain))
        return digests


def target_of(text: str) -> tuple[str, str]:
    """An opt-out target as stored, and its scope: ``ana@example.com`` ("address") or
    ``@example.com`` ("domain"; ``example.com`` is read as a domain too). Raises
    ValueError in one line for anything else."""
    value = text.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at:
        local, domain = "", value
    if not _is_domain(domain) or any(c.isspace() or c in "<>,;\"'" for c in local):
        raise ValueError(
            f"{text!r} is neither an address (ana@example.com) nor a domain (@example.com)"
        )
    return (f"{local}@{domain}", "address") if local else (f"@{domain}", "domain")


def audit_words(stored: str) -> str:
    """What the audit log says was opted out: a domain by name, an address only as "an
    address" (the audit log never holds a person's address)."""
    return f"domain {stored}" if stored.startswith("@") else "an address"


def _is_domain(domain: str) -> bool:
    labels = domain.split(".")
    return len(labels) >= 2 and all(
        label and len(label) <= 63 and all(c.isalnum() or c == "-" for c in label)
        for label in labels
    )
