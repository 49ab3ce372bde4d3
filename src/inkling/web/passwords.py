"""Passwords: argon2id hashes (pwdlib's recommended parameters: 64 MiB, 3 passes).

Only the hash is stored. A sign-in for an unknown address still verifies against a hash
made here once, so how long the answer takes does not tell which addresses have accounts.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError

#: Shorter is refused: a dashboard login faces the internet.
MIN_LENGTH = 10
#: Longer is refused before hashing (a megabyte password costs the server, not the caller).
MAX_LENGTH = 1024


class Passwords:
    def __init__(self, hasher: PasswordHash | None = None) -> None:
        self._hasher = hasher or PasswordHash.recommended()
        self._decoy: str | None = None  # made on the first sign-in, not by every command

    def hash(self, password: str) -> str:
        """The hash to store; ValueError (one line) for a password too short or too long."""
        problem = weakness(password)
        if problem:
            raise ValueError(problem)
        return self._hasher.hash(password)

    def verify(self, password: str, stored: str | None) -> bool:
        """Whether ``password`` is the one ``stored`` was made from (never for None: a
        user without a password signs in nowhere; the decoy takes the same time)."""
        if len(password) > MAX_LENGTH:
            return False
        if self._decoy is None:
            self._decoy = self._hasher.hash("not anyone's password")
        try:
            matches = self._hasher.verify(password, stored or self._decoy)
        except UnknownHashError:
            return False
        return matches and stored is not None


def weakness(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return None
