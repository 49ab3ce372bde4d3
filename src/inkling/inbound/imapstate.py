"""What the IMAP poller has delivered, kept in a small JSON file so a restart repeats nothing.

IMAP names a message durably by UIDVALIDITY + UID: while the mailbox's UIDVALIDITY stays
the same, UIDs only grow, so "the highest UID delivered" is the whole memory needed.

When UIDVALIDITY changes (the mailbox was rebuilt, restored or moved to another server),
the old UIDs mean nothing. The rule then is by date, the one thing a migration keeps: a
message is new if its INTERNALDATE (the server's arrival time) is later than ``since``,
the newest INTERNALDATE delivered so far; a message that arrived in that same second is
new unless its key (Message-ID, else a digest of its bytes) is in ``since_keys``. This
neither repeats the last messages nor drops one that shared their second. What it cannot
see is a message filed into the mailbox with an old date during the change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from inkling.errors import ImapStateError

_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]*>)", re.I | re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class StateError(ImapStateError):
    """The state file exists but cannot be read or understood."""


@dataclass
class PollState:
    """The poller's memory of one mailbox."""

    uidvalidity: int
    uid: int = 0
    since: int | None = None  # epoch seconds of the newest INTERNALDATE delivered
    since_keys: list[str] = field(default_factory=list)

    def is_new(self, date: int, key: str) -> bool:
        """Whether a message is newer than the delivered ones, by the date rule above."""
        if self.since is None or date > self.since:
            return True
        return date == self.since and key not in self.since_keys

    def record(self, date: int, key: str, uid: int | None = None) -> None:
        """Note one message as done (delivered, or skipped for good).

        ``uid`` is None while resynchronising: the message's UID belongs to the new
        UIDVALIDITY, not to the one this state still holds.
        """
        if uid is not None:
            self.uid = max(self.uid, uid)
        if self.since is None or date > self.since:
            self.since, self.since_keys = date, [key]
        elif date == self.since and key not in self.since_keys:
            self.since_keys.append(key)


def message_key(raw: bytes) -> str:
    """The Message-ID of ``raw`` (from its header), else ``sha256:`` of its bytes."""
    end = _HEADER_END.search(raw)
    found = _MESSAGE_ID.search(raw, 0, end.start() if end else len(raw))
    if found:
        return found.group(1).decode("ascii", "replace")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def load(path: Path) -> PollState | None:
    """The state in ``path``; None when there is none yet. Raises StateError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(text)
        since = data.get("since")
        return PollState(
            uidvalidity=int(data["uidvalidity"]),
            uid=int(data["uid"]),
            since=int(datetime.fromisoformat(since).timestamp()) if since else None,
            since_keys=[str(key) for key in data.get("since_keys", [])],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(f"{path} is not an IMAP poller state file: {exc}") from exc


def save(path: Path, state: PollState) -> None:
    """Write ``state`` to ``path`` atomically: a crash leaves the old file or the new one."""
    since = None if state.since is None else datetime.fromtimestamp(state.since, UTC).isoformat()
    text = json.dumps(
        {
            "uidvalidity": state.uidvalidity,
            "uid": state.uid,
            "since": since,
            "since_keys": state.since_keys,
        },
        indent=2,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
