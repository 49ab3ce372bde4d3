"""Tickets, their contacts, and what the triage queue reads about each open one.

A message belongs to a ticket by ``messages.ticket`` (given at sending: ``--ticket``, the
relay's ``X-Inkling-Ticket``, the API, an import's ``ticket``, or the subject pattern) or
by the ticket naming its Message-ID (``ticket_messages``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, insert, or_, select, update

from inkling.errors import UnknownTicket
from inkling.model import (
    HIT_KINDS,
    Agent,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Priority,
    Status,
    Ticket,
    Verdict,
    agent_or_none,
)
from inkling.store.engine import Database
from inkling.store.messages import _record
from inkling.store.schema import (
    SIGNALS_WHERE,
    contacts,
    messages,
    ticket_messages,
    tickets,
)

# Vocabulary words as read from a row, by dictionary: calling an enum costs ten times more.
_KINDS = {k.value: k for k in EventKind}
_VERDICTS = {v.value: v for v in Verdict}
_PRIORITIES = {p.value: p for p in Priority}
_STATUSES = {s.value: s for s in Status}

#: Rows asked for in one ``IN (...)``: well under every backend's parameter limit.
CHUNK = 5000
_HITS = tuple(kind.value for kind in HIT_KINDS)


@dataclass(frozen=True, slots=True)
class LastHit:
    """The latest open or click on a message that was not judged a person's."""

    verdict: Verdict
    agent: Agent | None


class Signal(NamedTuple):
    """An event as the queue reads it: a person's hit, or a mail that came back."""

    kind: EventKind
    ts: float
    verdict: Verdict
    details: dict[str, Any]


@dataclass(slots=True)
class Thread:
    """The copies of one sent message (one Message-ID) and what came back on them up to a
    time: every signal event (people's hits and returned mail), and the latest other hit."""

    copies: list[MessageRecord]
    signals: list[Signal]
    last_other_hit: LastHit | None
    #: When the customer replied, after this message was sent, to an earlier one of the
    #: ticket's (the helpdesk has the ball then too).
    replies_elsewhere: list[float] = field(default_factory=list)

    @property
    def message_id(self) -> str:
        return self.copies[0].message_id

    @property
    def sent_at(self) -> int:
        return min(c.sent_at for c in self.copies)


class Tickets:
    """Stores ticket upserts and answers what the playbook needs of them."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def upsert(self, ticket: Ticket) -> bool:
        """Store ``ticket``; False (nothing changed) when the stored one is newer."""
        return self.upsert_all([ticket])[0]

    def upsert_all(self, batch: Sequence[Ticket]) -> list[bool]:
        """Store several upserts in one transaction, in order; each answer as upsert's."""
        with self._db.begin() as connection:
            return [_upsert(connection, ticket) for ticket in batch]

    def get(self, ident: str) -> Ticket:
        with self._db.connect() as connection:
            found = _tickets(connection, tickets.c.id == ident)
            if not found:
                raise UnknownTicket(f"no ticket {ident!r}")
            return found[0]

    def messages_of(self, ident: str) -> list[MessageRecord]:
        """Every copy sent on the ticket, oldest first."""
        named = select(ticket_messages.c.message_id).where(ticket_messages.c.ticket == ident)
        query = (
            select(messages)
            .where(or_(messages.c.ticket == ident, messages.c.message_id.in_(named)))
            .order_by(messages.c.sent_at, messages.c.id)
        )
        with self._db.connect() as connection:
            return [_record(row._mapping) for row in connection.execute(query)]

    def open_at(self, at: float, *, include_done: bool = False) -> list[Ticket]:
        """The tickets created by ``at`` that are open (all of them with ``include_done``)."""
        condition = tickets.c.created_at <= at
        if not include_done:
            condition = and_(condition, tickets.c.status.not_in(["solved", "closed"]))
        with self._db.connect() as connection:
            return _tickets(connection, condition)

    def latest_threads(self, ticket_ids: Sequence[str], at: float) -> dict[str, Thread]:
        """For each ticket, its latest outbound message sent by ``at`` (all its copies),
        with the signals recorded on it by ``at``. Tickets with no message are left out."""
        with self._db.connect() as connection:
            raw = _Raw(connection)
            latest = _latest_copies(raw, ticket_ids, at)
            threads = _threads(raw, latest, at)
            for chunk in _chunks(ticket_ids):
                _add_replies(threads, raw.rows(_REPLIES_OF, at, many=chunk))
            return threads

    def open_threads(self, at: float) -> list[tuple[Ticket, Thread | None]]:
        """Every ticket open and created by ``at``, with its latest thread (None when
        nothing was sent on it by ``at``): what the triage queue reads, in few queries
        that each return about a row per ticket."""
        with self._db.connect() as connection:
            raw = _Raw(connection)
            found, latest_ids = [], {}
            named = _latest_named(raw.rows(_NAMED_SENT, at, at))
            for row in raw.rows(_OPEN_WITH_LATEST, at, at):
                ticket = _queue_ticket(row)
                found.append(ticket)
                message_id = _later(row[11], named.get(ticket.id))
                if message_id is not None:
                    latest_ids[ticket.id] = message_id
            copies = _copies_of(raw, sorted(set(latest_ids.values())), at)
            latest = {t: copies[m] for t, m in latest_ids.items() if m in copies}
            threads = _threads(raw, latest, at)
            _add_replies(threads, raw.rows(_OPEN_REPLIES, at, at))
        return [(ticket, threads.get(ticket.id)) for ticket in found]

    def thread(self, copies: Sequence[MessageRecord], at: float) -> Thread:
        """One message's copies with their signals up to ``at``."""
        with self._db.connect() as connection:
            threads = _threads(_Raw(connection), {"": list(copies)}, at)
        return threads.get("") or Thread(list(copies), [], None)

    def requester_tickets(self, address: str) -> list[Ticket]:
        with self._db.connect() as connection:
            return _tickets(connection, tickets.c.requester == address.lower())


def _upsert(connection: Connection, ticket: Ticket) -> bool:
    stored = connection.execute(
        select(tickets.c.updated_at).where(tickets.c.id == ticket.id)
    ).first()
    if stored is not None and stored.updated_at > ticket.updated_at:
        return False
    if ticket.requester:
        _ensure_contact(connection, ticket.requester)
    row = _ticket_row(ticket)
    if stored is None:
        connection.execute(insert(tickets).values(**row))
    else:
        connection.execute(update(tickets).where(tickets.c.id == ticket.id).values(**row))
    _name_messages(connection, ticket)
    return True


def _ensure_contact(connection: Connection, address: str) -> None:
    known = connection.execute(
        select(contacts.c.address).where(contacts.c.address == address)
    ).first()
    if known is None:
        connection.execute(insert(contacts).values(address=address, created_at=time.time()))


def _name_messages(connection: Connection, ticket: Ticket) -> None:
    if not ticket.message_ids:
        return
    query = select(ticket_messages.c.message_id).where(ticket_messages.c.ticket == ticket.id)
    known = {row.message_id for row in connection.execute(query)}
    new = [m for m in ticket.message_ids if m not in known]
    if new:
        connection.execute(
            insert(ticket_messages), [{"ticket": ticket.id, "message_id": m} for m in new]
        )


def _ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "team": ticket.team,
        "assignee": ticket.assignee,
        "requester": ticket.requester,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "solved_at": ticket.solved_at,
        "source": ticket.source,
        "extra": json.dumps(ticket.extra),
    }


def _tickets(connection: Connection, condition: Any) -> list[Ticket]:
    rows = list(connection.execute(select(tickets).where(condition).order_by(tickets.c.id)))
    named: dict[str, list[str]] = {}
    for chunk in _chunks([r.id for r in rows]):
        query = select(ticket_messages).where(ticket_messages.c.ticket.in_(chunk))
        for link in connection.execute(query):
            named.setdefault(link.ticket, []).append(link.message_id)
    return [_ticket(row._mapping, named.get(row.id, [])) for row in rows]


def _ticket(row: Any, message_ids: list[str]) -> Ticket:
    return Ticket(
        id=row["id"],
        priority=Priority(row["priority"]),
        status=Status(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        subject=row["subject"],
        team=row["team"],
        assignee=row["assignee"],
        requester=row["requester"],
        solved_at=row["solved_at"],
        source=row["source"],
        message_ids=tuple(sorted(message_ids)),
        extra=json.loads(row["extra"] or "{}"),
    )


class _Raw:
    """The driver's own cursor on a SQLAlchemy connection: the queue reads tens of
    thousands of rows, and the driver's tuples cost a fraction of SQLAlchemy's rows."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._mark = "%s" if self._postgres else "?"

    def rows(self, sql: str, *params: Any, many: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql``: ``{mark}`` stands for one parameter; ``{among}`` for "is one
        of ``many``", which go after ``params`` (on PostgreSQL one array, ``= ANY(%s)``,
        which it plans far faster than thousands of marks)."""
        if self._postgres:
            text = sql.format(mark="%s", among="= ANY(%s)")
            values: tuple[Any, ...] = (*params, list(many)) if "{among}" in sql else params
        else:
            text = sql.format(mark="?", among=f"IN ({', '.join(['?'] * len(many))})")
            values = (*params, *many)
        cursor = self._connection.connection.cursor()
        try:
            cursor.execute(text, values)
            return list(cursor.fetchall())
        finally:
            cursor.close()


# Every query below is written here in full; only marks (? or %s) are filled in.
_STILL_OPEN = "t.status NOT IN ('solved', 'closed') AND t.created_at <= {mark}"
_OPEN_TICKETS = (
    "SELECT t.id, t.priority, t.status, t.created_at, t.updated_at, t.subject, t.team, "
    "t.assignee, t.requester, t.solved_at, t.source FROM tickets t WHERE " + _STILL_OPEN
)
# Each open ticket with the latest Message-ID sent on it, "sent_at message-id" (one step
# back along ix_messages_ticket); and the Message-IDs tickets name, sent by then.
_OPEN_WITH_LATEST = (
    "SELECT t.id, t.priority, t.status, t.created_at, t.updated_at, t.subject, t.team, "
    "t.assignee, t.requester, t.solved_at, t.source, "
    "(SELECT CAST(m.sent_at AS TEXT) || ' ' || m.message_id FROM messages m "
    "WHERE m.ticket = t.id AND m.sent_at <= {mark} ORDER BY m.sent_at DESC LIMIT 1) "
    "FROM tickets t WHERE " + _STILL_OPEN
)
# Driven from the named Message-IDs (few, or none: then it reads nothing), not from every
# message sent by then, which SQLite's planner picks unless CROSS JOIN fixes the order.
_NAMED_SENT = (
    "SELECT n.ticket, m.sent_at, m.message_id FROM ticket_messages n "
    "CROSS JOIN messages m CROSS JOIN tickets t "
    "WHERE m.message_id = n.message_id AND t.id = n.ticket AND m.sent_at <= {mark} AND "
    + _STILL_OPEN
)
# The customers' replies by then, on the messages of open tickets (or of some tickets):
# read through ix_events_replies, which holds replies only (few beside the hits).
_OPEN_REPLIES = (
    "SELECT m.ticket, e.message, e.ts FROM events e "
    "JOIN messages m ON m.id = e.message JOIN tickets t ON t.id = m.ticket "
    "WHERE e.kind = 'reply' AND e.ts <= {mark} AND " + _STILL_OPEN
)
_REPLIES_OF = (
    "SELECT m.ticket, e.message, e.ts FROM events e JOIN messages m ON m.id = e.message "
    "WHERE e.kind = 'reply' AND e.ts <= {mark} AND m.ticket {among}"
)
_COPIES_OF = (
    "SELECT m.message_id, m.id, m.message_id, m.sent_at, m.recipient, m.subject, m.untracked "
    "FROM messages m WHERE m.sent_at <= {mark} AND m.message_id {among}"
)
_COPY_COLUMNS = "m.id, m.message_id, m.sent_at, m.recipient, m.subject, m.untracked"
_DIRECT = (
    f"SELECT m.ticket, {_COPY_COLUMNS} FROM messages m JOIN tickets t ON t.id = m.ticket "
    f"WHERE m.sent_at <= {{mark}} AND {_STILL_OPEN}"
)
_NAMED = (
    f"SELECT n.ticket, {_COPY_COLUMNS} FROM ticket_messages n "
    "JOIN tickets t ON t.id = n.ticket JOIN messages m ON m.message_id = n.message_id "
    f"WHERE m.sent_at <= {{mark}} AND {_STILL_OPEN}"
)
_DIRECT_OF = (
    f"SELECT m.ticket, {_COPY_COLUMNS} FROM messages m "
    "WHERE m.sent_at <= {mark} AND m.ticket {among}"
)
_NAMED_OF = (
    f"SELECT n.ticket, {_COPY_COLUMNS} FROM ticket_messages n "
    "JOIN messages m ON m.message_id = n.message_id "
    "WHERE m.sent_at <= {mark} AND n.ticket {among}"
)
_SIGNALS = (
    "SELECT message, kind, ts, verdict, details FROM events "
    f"WHERE ts <= {{mark}} AND message {{among}} AND ({SIGNALS_WHERE})"
)
# One step back along ix_events_message_ts per copy, not a scan of its machine fetches.
_LAST_OTHER = (
    "SELECT m.id, (SELECT e.verdict || ' ' || COALESCE(e.agent, '') || ' ' || "
    "CAST(e.ts AS TEXT) FROM events e WHERE e.message = m.id AND e.ts <= {mark} "
    "AND e.kind IN ('open', 'click') AND e.verdict <> 'human' ORDER BY e.ts DESC LIMIT 1) "
    "FROM messages m WHERE m.id {among}"
)


def _queue_ticket(row: tuple[Any, ...]) -> Ticket:
    ident, priority, status, created, updated, subject, team, assignee, requester = row[:9]
    return Ticket(
        id=ident,
        priority=_PRIORITIES[priority],
        status=_STATUSES[status],
        created_at=created,
        updated_at=updated,
        subject=subject,
        team=team,
        assignee=assignee,
        requester=requester,
        solved_at=row[9],
        source=row[10],
    )


def _latest_named(rows: list[tuple[Any, ...]]) -> dict[str, tuple[int, str]]:
    """The latest (sent_at, Message-ID) each ticket names."""
    latest: dict[str, tuple[int, str]] = {}
    for ticket, sent_at, message_id in rows:
        latest[ticket] = max(latest.get(ticket, (sent_at, message_id)), (sent_at, message_id))
    return latest


def _later(direct: str | None, named: tuple[int, str] | None) -> str | None:
    """The Message-ID of the later of a "sent_at message-id" answer and a named one."""
    given = [named] if named is not None else []
    if direct:
        sent_at, message_id = direct.split(" ", 1)
        given.append((int(sent_at), message_id))
    return max(given)[1] if given else None


def _copies_of(raw: _Raw, message_ids: Sequence[str], at: float) -> dict[str, list[MessageRecord]]:
    """Every copy of these Message-IDs sent by ``at``, by Message-ID."""
    found: dict[str, list[MessageRecord]] = {}
    for chunk in _chunks(message_ids):
        for row in raw.rows(_COPIES_OF, at, many=chunk):
            found.setdefault(row[0], []).append(_copy(row))
    for copies in found.values():
        copies.sort(key=lambda c: c.id)
    return found


def _latest_copies(
    raw: _Raw, ticket_ids: Sequence[str] | None, at: float
) -> dict[str, list[MessageRecord]]:
    """Each ticket's copies, by either route, sent by ``at`` (of every open ticket when
    ``ticket_ids`` is None); then only the latest Message-ID's copies."""
    rows: list[tuple[Any, ...]] = []
    if ticket_ids is None:
        rows += raw.rows(_DIRECT, at, at) + raw.rows(_NAMED, at, at)
    else:
        for chunk in _chunks(ticket_ids):
            rows += raw.rows(_DIRECT_OF, at, many=chunk) + raw.rows(_NAMED_OF, at, many=chunk)
    by_ticket: dict[str, dict[str, tuple[Any, ...]]] = {}
    for row in rows:
        by_ticket.setdefault(row[0], {})[row[1]] = row
    return {ticket: _latest_message(list(found.values())) for ticket, found in by_ticket.items()}


def _latest_message(rows: list[tuple[Any, ...]]) -> list[MessageRecord]:
    sent: dict[str, int] = {}
    for row in rows:
        sent[row[2]] = min(sent.get(row[2], row[3]), row[3])
    latest = max(sent, key=lambda m: (sent[m], m))
    return [_copy(row) for row in sorted(rows, key=lambda r: r[1]) if row[2] == latest]


def _copy(row: tuple[Any, ...]) -> MessageRecord:
    owner, ident, message_id, sent_at, recipient, subject, untracked = row
    return MessageRecord(
        id=InklingId(ident),
        message_id=MessageIdHeader(message_id),
        workflow=None,
        ticket=owner,
        subject=subject,
        sent_at=sent_at,
        links_total=0,
        recipient=recipient,
        untracked=untracked,
    )


def _threads(raw: _Raw, latest: dict[str, list[MessageRecord]], at: float) -> dict[str, Thread]:
    copy_ids = [c.id for copies in latest.values() for c in copies]
    signals = _signals(raw, copy_ids, at)
    # What machines did matters only where no person did anything: ask only for those.
    people = {i for i, found in signals.items() if any(s.verdict is Verdict.HUMAN for s in found)}
    others = _last_other_hits(raw, [i for i in copy_ids if i not in people], at)
    threads = {}
    for ticket, copies in latest.items():
        if len(copies) == 1:
            found = signals.get(copies[0].id, [])
        else:
            found = sorted((e for c in copies for e in signals.get(c.id, ())), key=_by_time)
        last = _latest_of([others[c.id] for c in copies if c.id in others])
        threads[ticket] = Thread(copies, found, last)
    return threads


def _add_replies(threads: dict[str, Thread], rows: list[tuple[Any, ...]]) -> None:
    """Replies to a ticket's other messages, received after its latest one was sent."""
    for ticket, message, ts in rows:
        thread = threads.get(ticket)
        if thread is None or ts < thread.sent_at:
            continue
        if all(c.id != message for c in thread.copies):
            thread.replies_elsewhere.append(ts)
    for thread in threads.values():
        thread.replies_elsewhere.sort()


def _by_time(signal: Signal) -> float:
    return signal.ts


def _signals(raw: _Raw, copy_ids: Sequence[str], at: float) -> dict[str, list[Signal]]:
    """People's hits and returned mail on these copies by ``at``, by copy, oldest first
    (the partial index ``ix_events_signals`` serves exactly this condition)."""
    found: dict[str, list[Signal]] = {}
    for chunk in _chunks(copy_ids):
        for message, kind, ts, verdict, details in raw.rows(_SIGNALS, at, many=chunk):
            parsed = json.loads(details) if details != "{}" else {}
            found.setdefault(message, []).append(
                Signal(_KINDS[kind], ts, _VERDICTS[verdict], parsed)
            )
    for listed in found.values():
        listed.sort(key=_by_time)
    return found


def _last_other_hits(
    raw: _Raw, copy_ids: Sequence[str], at: float
) -> dict[str, tuple[float, LastHit]]:
    """For each copy, its latest open or click by ``at`` not judged a person's."""
    found: dict[str, tuple[float, LastHit]] = {}
    for chunk in _chunks(copy_ids):
        for ident, latest in raw.rows(_LAST_OTHER, at, many=chunk):
            if latest:
                verdict, agent, ts = latest.split(" ")
                found[ident] = (float(ts), LastHit(_VERDICTS[verdict], agent_or_none(agent)))
    return found


def _latest_of(hits: list[tuple[float, LastHit]]) -> LastHit | None:
    return max(hits, key=lambda h: h[0])[1] if hits else None


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch
