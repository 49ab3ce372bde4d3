"""A read-only IMAP session: every command the poller sends to a mailbox is in this file.

The support mailbox belongs to the support team; Inkling only looks. So the mailbox is
opened with EXAMINE (never SELECT, which would take \\Recent and allow changes), bodies
are fetched with ``BODY.PEEK[]`` (``RFC822`` and ``BODY[]`` would set \\Seen), and no
STORE, EXPUNGE, COPY, MOVE or CLOSE is ever sent; the session ends with LOGOUT.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

from inkling.errors import ImapError

DEFAULT_PORTS = {"imap": 143, "imap+starttls": 143, "imaps": 993}
TIMEOUT = 30.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_DATE = re.compile(
    rb'\bINTERNALDATE "\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([-+])(\d\d)(\d\d)"'
)


class ImapProtocolError(ImapError):
    """The server answered something the session cannot use."""


@dataclass(frozen=True)
class ImapUrl:
    """``imaps://user:password@host:993/INBOX`` (also ``imap://``, ``imap+starttls://``)."""

    scheme: str
    host: str
    port: int
    user: str
    password: str
    mailbox: str

    @classmethod
    def parse(cls, url: str) -> ImapUrl:
        """Read an IMAP URL; raises ValueError saying what is wrong with it."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError("the scheme must be imaps://, imap+starttls:// or imap://")
        if not parts.hostname:
            raise ValueError("the URL names no host")
        if not parts.username or parts.password is None:
            raise ValueError("the URL needs user:password@ before the host")
        mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
        if not mailbox.isascii():
            raise ValueError("the mailbox name must be ASCII")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            user=unquote(parts.username),
            password=unquote(parts.password),
            mailbox=mailbox,
        )

    def __str__(self) -> str:
        """The URL without its password, for logs."""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.mailbox}"

    __repr__ = __str__


@dataclass(frozen=True)
class Summary:
    """What the poller needs to know about a message before fetching it."""

    uid: int
    date: int  # INTERNALDATE, epoch seconds
    size: int


class ReadOnlySession:
    """A logged-in connection with one mailbox EXAMINEd; use as a context manager."""

    def __init__(self, url: ImapUrl, *, ssl_context: ssl.SSLContext | None = None) -> None:
        context = ssl_context or ssl.create_default_context()
        if url.scheme == "imaps":
            self._conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                url.host, url.port, ssl_context=context, timeout=TIMEOUT
            )
        else:
            self._conn = imaplib.IMAP4(url.host, url.port, timeout=TIMEOUT)
        try:
            if url.scheme == "imap+starttls":
                self._conn.starttls(context)
            self._conn.login(url.user, url.password)
            typ, data = self._conn.select(_quote(url.mailbox), readonly=True)  # EXAMINE
            _check(typ, data)
            #: how many messages the mailbox holds (some servers refuse "1:*" when none)
            self.exists = int(_first(data, "EXISTS"))
            typ, data = self._conn.response("UIDVALIDITY")
            self.uidvalidity = int(_first(data, "UIDVALIDITY"))
        except BaseException:
            self.abort()
            raise

    def __enter__(self) -> ReadOnlySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def highest_uid(self) -> int:
        """The highest UID in the mailbox now (0 when it is empty)."""
        return max(self._search("ALL"), default=0)

    def uids_since(self, date: int, up_to: int) -> list[int]:
        """UIDs up to ``up_to`` that may have arrived at ``date`` or later.

        SEARCH SINCE compares days, in the server's idea of the day, so this asks from the
        day before; the caller filters by exact INTERNALDATE.
        """
        day = datetime.fromtimestamp(date, UTC) - timedelta(days=1)
        since = f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"
        return sorted(uid for uid in self._search(f"UID 1:{up_to} SINCE {since}") if uid <= up_to)

    def summaries(self, uids: str) -> list[Summary]:
        """UID, INTERNALDATE and size of the messages in the UID set ``uids`` (``"5:*"``)."""
        typ, data = self._conn.uid("FETCH", uids, "(UID INTERNALDATE RFC822.SIZE)")
        _check(typ, data)
        found: dict[int, Summary] = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, size, date = _UID.search(line), _SIZE.search(line), _DATE.search(line)
            if uid and size and date:  # other lines are unsolicited flag updates
                found[int(uid.group(1))] = Summary(
                    int(uid.group(1)), _epoch(date), int(size.group(1))
                )
        return [found[uid] for uid in sorted(found)]

    def body(self, uid: int) -> bytes | None:
        """The exact bytes of message ``uid``, without setting \\Seen; None if it is gone."""
        typ, data = self._conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        _check(typ, data)
        for item in data:
            if isinstance(item, tuple) and b"BODY[]" in item[0]:
                found = _UID.search(item[0])
                if found and int(found.group(1)) == uid:
                    return bytes(item[1])
        return None

    def abort(self) -> None:
        """Cut the connection at once (from another thread too: a blocked read returns)."""
        with contextlib.suppress(OSError):
            self._conn.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._conn.shutdown()

    def close(self) -> None:
        """LOGOUT (never CLOSE: on some servers it expunges), then drop the connection."""
        try:
            self._conn.logout()
        except (OSError, imaplib.IMAP4.error):
            self.abort()

    def _search(self, criteria: str) -> list[int]:
        typ, data = self._conn.uid("SEARCH", criteria)
        _check(typ, data)
        return [int(uid) for line in data if isinstance(line, bytes) for uid in line.split()]


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first(data: Sequence[object], what: str) -> bytes:
    if not data or not isinstance(data[0], bytes):
        raise ImapProtocolError(f"the server did not say the mailbox's {what}")
    return data[0]


def _check(typ: str, data: Sequence[object]) -> None:
    if typ != "OK":
        raise ImapProtocolError(f"the server answered {typ}: {data!r:.200}")


def _epoch(found: re.Match[bytes]) -> int:
    day, month, year, hour, minute, second, sign, off_h, off_m = (
        g.decode("ascii") for g in found.groups()
    )
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    month_number = _MONTHS.index(month.capitalize()) + 1
    moment = datetime(
        int(year), month_number, int(day), int(hour), int(minute), int(second),
        tzinfo=timezone(offset),
    )  # fmt: skip
    return int(moment.timestamp())
