"""Finding sent messages, and reading each as one thread with its recipients side by side.

The relay sends each recipient a copy of their own (same Message-ID, own tokens), so a
message to a customer with two colleagues on CC is three copies. Listed or read by its
Message-ID, it is one thread: who opened, who clicked, each recipient on their own line.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from inkling.errors import InklingError
from inkling.model import EventKind, MessageRecord
from inkling.signals.state import State, signs_of
from inkling.store import Search, Store
from inkling.times import iso, parse_time

VERDICTS = ("human", "machine", "unknown")
#: How many candidate messages a state filter looks through for one page, at most.
SCAN_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class MessageQuery:
    search: Search
    state: State | None = None
    at: float | None = None

    @classmethod
    def of(
        cls,
        *,
        ticket: str | None = None,
        recipient: str | None = None,
        since: str | None = None,
        until: str | None = None,
        state: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> MessageQuery:
        """A query from text as the CLI and API take it; InklingError naming a bad one."""
        chosen = None
        if state is not None:
            try:
                chosen = State(state)
            except ValueError:
                words = ", ".join(s.value for s in State)
                raise InklingError(f"state must be one of {words}, not {state!r}") from None
        search = Search(
            ticket=ticket,
            recipient=recipient,
            since=parse_time(since, "since") if since is not None else None,
            until=parse_time(until, "until") if until is not None else None,
            before=_cursor(cursor) if cursor else None,
            limit=limit,
        )
        return cls(search=search, state=chosen)


@dataclass(frozen=True, slots=True)
class Recipient:
    copy: MessageRecord
    state: State
    opens: dict[str, int]
    clicks: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.copy.id,
            "recipient": self.copy.recipient or None,
            "state": self.state.value,
            "opens": self.opens,
            "clicks": self.clicks,
            "untracked": self.copy.untracked,
        }


@dataclass(frozen=True, slots=True)
class ThreadView:
    """One message (one Message-ID) and each of its copies' signals."""

    message_id: str
    subject: str | None
    ticket: str | None
    sent_at: float
    state: State
    recipients: list[Recipient]

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "subject": self.subject,
            "ticket": self.ticket,
            "sent_at": iso(self.sent_at),
            "state": self.state.value,
            "recipients": [r.as_json() for r in self.recipients],
        }


@dataclass(frozen=True, slots=True)
class Page:
    threads: list[ThreadView]
    next_cursor: str | None

    def as_json(self) -> dict[str, Any]:
        return {"messages": [t.as_json() for t in self.threads], "next": self.next_cursor}


def find_messages(store: Store, query: MessageQuery) -> Page:
    """One page of messages, newest first; ``next_cursor`` asks for the page after."""
    at = query.at if query.at is not None else time.time()
    wanted = query.search.limit
    step = wanted if query.state is None else max(wanted, 100)
    found: list[ThreadView] = []
    before = query.search.before
    scanned = 0
    while len(found) < wanted and scanned < SCAN_LIMIT:
        batch = store.messages.search(replace(query.search, before=before, limit=step))
        for message_id, sent in batch:
            scanned += 1
            view = read_thread(store, message_id, at=at)
            before = (sent, message_id)
            if query.state is None or view.state == query.state:
                found.append(view)
            if len(found) == wanted:
                break
        if len(batch) < step:
            break
    more = before is not None and bool(
        store.messages.search(replace(query.search, before=before, limit=1))
    )
    return Page(found, _encode(before) if more and before is not None else None)


def read_thread(store: Store, message_id: str, *, at: float | None = None) -> ThreadView:
    """Every copy of a Message-ID (or the one copy an Inkling id names), side by side."""
    copies = store.messages.copies_of(message_id)
    if not copies:  # an Inkling id, or nothing (UnknownMessage)
        copies = [store.messages.find(message_id)]
    when = at if at is not None else time.time()
    today = datetime.fromtimestamp(when, UTC).date()
    recipients = [_recipient(store, copy, when, today) for copy in copies]
    whole = signs_of(store.tickets.thread(copies, when)).state(today)
    first = copies[0]
    return ThreadView(
        message_id=first.message_id,
        subject=first.subject,
        ticket=next((c.ticket for c in copies if c.ticket), None),
        sent_at=float(min(c.sent_at for c in copies)),
        state=whole,
        recipients=recipients,
    )


def _recipient(store: Store, copy: MessageRecord, at: float, today: Any) -> Recipient:
    counts = store.events.counts(copy.id)
    state = signs_of(store.tickets.thread([copy], at)).state(today)
    return Recipient(copy, state, _split(counts, EventKind.OPEN), _split(counts, EventKind.CLICK))


def _split(counts: dict[tuple[str, str], int], kind: EventKind) -> dict[str, int]:
    split = {v: counts.get((kind.value, v), 0) for v in VERDICTS}
    return {"total": sum(split.values()), **split}


def _encode(before: tuple[int, str]) -> str:
    raw = f"{before[0]}\n{before[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(text: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        sent, message_id = raw.split("\n", 1)
        return int(sent), message_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InklingError("cursor is not one this API gave out") from exc
