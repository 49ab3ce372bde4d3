"""The data dir: every file Inkling keeps there, named in one place.

``docs/operations.md`` lists them for operators (what each holds, what losing it costs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from inkling.errors import ConfigError


@dataclass(frozen=True, slots=True)
class DataDir:
    path: Path

    @property
    def keys(self) -> Path:
        """The token keys (mode 0600): lose them and every link already sent breaks."""
        return self.path / "keys.json"

    @property
    def users(self) -> Path:
        """API keys of versions before scopes (mode 0600); imported into the database on
        first use and renamed ``users.json.imported`` (api/keys.py)."""
        return self.path / "users.json"

    @property
    def privacy_key(self) -> Path:
        """The key opt-outs are looked up by (mode 0600): lose it and every opt-out is
        forgotten. Shared by every node, like ``keys.json``."""
        return self.path / "privacy.key"

    @property
    def session_key(self) -> Path:
        """The key dashboard sessions and CSRF tokens are signed with (mode 0600): lose it
        and everyone signs in again. Shared by every node, like ``keys.json``."""
        return self.path / "session.key"

    @property
    def database(self) -> Path:
        """The SQLite database, when no database URL is set."""
        return self.path / "inkling.db"

    @property
    def journal(self) -> Path:
        """Hits not yet moved into the database."""
        return self.path / "journal"

    @property
    def ranges(self) -> Path:
        """Published IP ranges an operator installed (else the packaged snapshot is used)."""
        return self.path / "ranges"

    @property
    def imap_state(self) -> Path:
        """How far the IMAP poller has read the mailbox."""
        return self.path / "imap-state.json"

    @property
    def relay_tls(self) -> Path:
        """The relay's self-signed certificate, made when none is configured."""
        return self.path / "relay-tls"

    @property
    def sqlite_url(self) -> str:
        return f"sqlite:///{self.database.resolve()}"

    def ensure(self) -> None:
        """Create the directory if needed; ConfigError in one line if it is unusable."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(
                f"the data dir {self.path} (INKLING_DATA_DIR) is a file, not a directory"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot use the data dir {self.path} (INKLING_DATA_DIR): {exc.strerror or exc}"
            ) from exc
        if not self.path.is_dir():
            raise ConfigError(f"the data dir {self.path} (INKLING_DATA_DIR) is not a directory")
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise ConfigError(
                f"cannot write to the data dir {self.path} (INKLING_DATA_DIR): permission denied"
            )
