"""Tickets, their contacts, and what the triage queue reads about each open one.

A message belongs to a ticket by ``messages.ticket`` (given at sending: ``--ticket``, the
relay's ``X-Inkling-Ticket``, the API, an import's ``ticket``, or the subject pattern) or
by the ticket naming its Message-ID (``ticket_messages``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select, update

from inkling.errors import UnknownTicket
from inkling.model import (
    DONE,
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
from inkling.store.engine import Database, chunks
from inkling.store.messages import _record, on_tickets
from inkling.store.schema import (
    BEFORE_SENT,
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
            raw = _Raw(connection)
            found = raw.rows(_TICKET, ident)
            if not found:
                raise UnknownTicket(f"no ticket {ident!r}")
            named = [row[0] for row in raw.rows(_NAMED_IDS, ident)]
        return _ticket(found[0], extra=found[0][11], message_ids=named)

    def count_open(self) -> int:
        """How many tickets are open (neither solved nor closed): the queue's depth, read
        along ix_tickets_status."""
        still_open = tickets.c.status.not_in(sorted(DONE))
        query = select(func.count()).select_from(tickets).where(still_open)
        with self._db.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def messages_of(self, ident: str) -> list[MessageRecord]:
        """Every copy sent on the ticket, oldest first."""
        query = (
            select(messages).where(on_tickets([ident])).order_by(messages.c.sent_at, messages.c.id)
        )
        with self._db.connect() as connection:
            return [_record(row._mapping) for row in connection.execute(query)]

    def latest_threads(self, ticket_ids: Sequence[str], at: float) -> dict[str, Thread]:
        """For each ticket, its latest outbound message sent by ``at`` (all its copies),
        with the signals recorded on it by ``at``. Tickets with no message are left out."""
        with self._db.connect() as connection:
            raw = _Raw(connection)
            latest: dict[str, str] = {}
            for chunk in chunks(ticket_ids):
                named = _latest_named(raw.rows(_NAMED_SENT_OF, at, many=chunk))
                for ticket, direct in raw.rows(_LATEST_OF, at, many=chunk):
                    _note_latest(latest, ticket, direct, named)
            threads = _threads_of(raw, latest, at)
            for chunk in chunks(ticket_ids):
                _add_replies(threads, raw.rows(_REPLIES_OF, at, many=chunk))
        return threads

    def open_threads(self, at: float) -> list[tuple[Ticket, Thread | None]]:
        """Every ticket open and created by ``at``, with its latest thread (None when
        nothing was sent on it by ``at``): what the triage queue reads, in few queries
        that each return about a row per ticket."""
        with self._db.connect() as connection:
            raw = _Raw(connection)
            found: list[Ticket] = []
            latest: dict[str, str] = {}
            named = _latest_named(raw.rows(_NAMED_SENT, at, at))
            for row in raw.rows(_OPEN_WITH_LATEST, at, at):
                ticket = _ticket(row)
                found.append(ticket)
                _note_latest(latest, ticket.id, row[11], named)
            threads = _threads_of(raw, latest, at)
            _add_replies(threads, raw.rows(_OPEN_REPLIES, at, at))
        return [(ticket, threads.get(ticket.id)) for ticket in found]

    def thread(self, copies: Sequence[MessageRecord], at: float) -> Thread:
        """One message's copies with their signals up to ``at``."""
        with self._db.connect() as connection:
            threads = _threads(_Raw(connection), {"": list(copies)}, at)
        return threads.get("") or Thread(list(copies), [], None)


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
        which it plans far faster than thousands of marks); ``{ts}`` and ``{e_ts}`` for
        the events' time where only a lower bound is put on it (``BEFORE_SENT``)."""
        if self._postgres:
            text = sql.format(mark="%s", among="= ANY(%s)", ts="ts", e_ts="e.ts")
            values: tuple[Any, ...] = (*params, list(many)) if "{among}" in sql else params
        else:
            among = f"IN ({', '.join(['?'] * len(many))})"
            # "+": the bound on time filters, it is no reason for SQLite to pick an index
            text = sql.format(mark="?", among=among, ts="+ts", e_ts="+e.ts")
            values = (*params, *many)
        cursor = self._connection.connection.cursor()
        try:
            cursor.execute(text, values)
            return list(cursor.fetchall())
        finally:
            cursor.close()


# Every query below is written here in full; only marks (? or %s) are filled in.
_STILL_OPEN = "t.status NOT IN ('solved', 'closed') AND t.created_at <= {mark}"
_TICKET_COLUMNS = (
    "t.id, t.priority, t.status, t.created_at, t.updated_at, t.subject, t.team, "
    "t.assignee, t.requester, t.solved_at, t.source"
)
_TICKET = f"SELECT {_TICKET_COLUMNS}, t.extra FROM tickets t WHERE t.id = {{mark}}"
_NAMED_IDS = "SELECT message_id FROM ticket_messages WHERE ticket = {mark} ORDER BY message_id"
# The latest Message-ID sent on a ticket by then, "sent_at message-id": one step back
# along ix_messages_ticket (ticket, sent_at).
_LATEST_SENT = (
    "(SELECT CAST(m.sent_at AS TEXT) || ' ' || m.message_id FROM messages m "
    "WHERE m.ticket = t.id AND m.sent_at <= {mark} ORDER BY m.sent_at DESC LIMIT 1)"
)
_OPEN_WITH_LATEST = f"SELECT {_TICKET_COLUMNS}, {_LATEST_SENT} FROM tickets t WHERE " + _STILL_OPEN
_LATEST_OF = f"SELECT t.id, {_LATEST_SENT} FROM tickets t WHERE t.id {{among}}"
# The Message-IDs tickets name, sent by then: driven from the named Message-IDs (few, or
# none: then it reads nothing), not from every message sent by then, which SQLite's
# planner picks unless CROSS JOIN fixes the order.
_NAMED_SENT = (
    "SELECT n.ticket, m.sent_at, m.message_id FROM ticket_messages n "
    "CROSS JOIN messages m CROSS JOIN tickets t "
    "WHERE m.message_id = n.message_id AND t.id = n.ticket AND m.sent_at <= {mark} AND "
    + _STILL_OPEN
)
_NAMED_SENT_OF = (
    "SELECT n.ticket, m.sent_at, m.message_id FROM ticket_messages n CROSS JOIN messages m "
    "WHERE m.message_id = n.message_id AND m.sent_at <= {mark} AND n.ticket {among}"
)
# The customers' replies by then, on the messages of open tickets (or of some tickets).
# Driven from the open tickets (CROSS JOIN fixes the order), their messages, then one
# step into ix_events_report (message, kind, ...) per message: every reply ever received
# is many more than the open tickets' (a desk's six months: 212,000 against 8,000; read
# reply by reply, 2.5 s instead of 60 ms). ``+ 0`` keeps SQLite from reading each
# message's events by (message, ts) instead.
_OPEN_REPLIES = (
    "SELECT m.ticket, e.message, e.ts FROM tickets t CROSS JOIN messages m "
    "CROSS JOIN events e WHERE m.ticket = t.id AND e.message = m.id AND e.kind = 'reply' "
    "AND e.ts + 0 <= {mark} AND " + _STILL_OPEN
)
_REPLIES_OF = (
    "SELECT m.ticket, e.message, e.ts FROM events e JOIN messages m ON m.id = e.message "
    "WHERE e.kind = 'reply' AND e.ts <= {mark} AND m.ticket {among}"
)
_COPIES_OF = (
    "SELECT m.id, m.message_id, m.sent_at, m.recipient, m.subject, m.untracked, m.tracking, "
    "m.ticket "
    "FROM messages m WHERE m.sent_at <= {mark} AND m.message_id {among}"
)
_SIGNALS = (
    "SELECT message, kind, ts, verdict, details FROM events "
    f"WHERE ts <= {{mark}} AND {{ts}} >= {{mark}} AND message {{among}} AND ({SIGNALS_WHERE})"
)
# One step back along ix_events_message_ts per copy, not a scan of its machine fetches.
_LAST_OTHER = (
    "SELECT m.id, (SELECT e.verdict || ' ' || COALESCE(e.agent, '') || ' ' || "
    "CAST(e.ts AS TEXT) FROM events e WHERE e.message = m.id AND e.ts <= {mark} "
    "AND {e_ts} >= {mark} "
    "AND e.kind IN ('open', 'click') AND e.verdict <> 'human' ORDER BY e.ts DESC LIMIT 1) "
    "FROM messages m WHERE m.id {among}"
)


def _ticket(row: tuple[Any, ...], *, extra: str = "{}", message_ids: Sequence[str] = ()) -> Ticket:
    """A ticket from the columns of ``_TICKET_COLUMNS``, in their order."""
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
        message_ids=tuple(message_ids),
        extra=json.loads(extra or "{}"),
    )


def _latest_named(rows: list[tuple[Any, ...]]) -> dict[str, tuple[int, str]]:
    """The latest (sent_at, Message-ID) each ticket names."""
    latest: dict[str, tuple[int, str]] = {}
    for ticket, sent_at, message_id in rows:
        latest[ticket] = max(latest.get(ticket, (sent_at, message_id)), (sent_at, message_id))
    return latest


def _note_latest(
    latest: dict[str, str],
    ticket: str,
    direct: str | None,
    named: dict[str, tuple[int, str]],
) -> None:
    """Note in ``latest`` the later of the ticket's own latest message ("sent_at
    message-id", or None) and the latest it names."""
    given = [named[ticket]] if ticket in named else []
    if direct:
        sent_at, message_id = direct.split(" ", 1)
        given.append((int(sent_at), message_id))
    if given:
        latest[ticket] = max(given)[1]


def _threads_of(raw: _Raw, latest: dict[str, str], at: float) -> dict[str, Thread]:
    """Each ticket's thread of the Message-ID ``latest`` gives it."""
    copies = _copies_of(raw, sorted(set(latest.values())), at)
    return _threads(raw, {t: copies[m] for t, m in latest.items() if m in copies}, at)


def _copies_of(raw: _Raw, message_ids: Sequence[str], at: float) -> dict[str, list[MessageRecord]]:
    """Every copy of these Message-IDs sent by ``at``, by Message-ID."""
    found: dict[str, list[MessageRecord]] = {}
    for chunk in chunks(message_ids):
        for row in raw.rows(_COPIES_OF, at, many=chunk):
            found.setdefault(row[1], []).append(_copy(row))
    for copies in found.values():
        copies.sort(key=lambda c: c.id)
    return found


def _copy(row: tuple[Any, ...]) -> MessageRecord:
    """A copy from ``_COPIES_OF``'s columns (what a queue needs of it: not its links)."""
    ident, message_id, sent_at, recipient, subject, untracked, tracking, ticket = row
    return MessageRecord(
        id=InklingId(ident),
        message_id=MessageIdHeader(message_id),
        workflow=None,
        ticket=ticket,
        subject=subject,
        sent_at=sent_at,
        links_total=0,
        recipient=recipient,
        untracked=untracked,
        tracking=tracking,
    )


def _threads(raw: _Raw, latest: dict[str, list[MessageRecord]], at: float) -> dict[str, Thread]:
    every = [c for copies in latest.values() for c in copies]
    copy_ids = [c.id for c in every]
    # What came more than BEFORE_SENT before the earliest copy was sent is none of theirs:
    # on PostgreSQL that keeps the reads to the months since (store/partitions.py).
    since = min((c.sent_at for c in every), default=at) - BEFORE_SENT
    signals = _signals(raw, copy_ids, at, since)
    # What machines did matters only where no person did anything: ask only for those.
    people = {i for i, found in signals.items() if any(s.verdict is Verdict.HUMAN for s in found)}
    others = _last_other_hits(raw, [i for i in copy_ids if i not in people], at, since)
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


def _signals(
    raw: _Raw, copy_ids: Sequence[str], at: float, since: float
) -> dict[str, list[Signal]]:
    """People's hits and returned mail on these copies by ``at``, by copy, oldest first
    (the partial index ``ix_events_signals`` serves exactly this condition)."""
    found: dict[str, list[Signal]] = {}
    for chunk in chunks(copy_ids):
        for message, kind, ts, verdict, details in raw.rows(_SIGNALS, at, since, many=chunk):
            parsed = json.loads(details) if details != "{}" else {}
            found.setdefault(message, []).append(
                Signal(_KINDS[kind], ts, _VERDICTS[verdict], parsed)
            )
    for listed in found.values():
        listed.sort(key=_by_time)
    return found


def _last_other_hits(
    raw: _Raw, copy_ids: Sequence[str], at: float, since: float
) -> dict[str, tuple[float, LastHit]]:
    """For each copy, its latest open or click by ``at`` and from ``since`` on not judged
    a person's."""
    found: dict[str, tuple[float, LastHit]] = {}
    for chunk in chunks(copy_ids):
        for ident, latest in raw.rows(_LAST_OTHER, at, since, many=chunk):
            if latest:
                verdict, agent, ts = latest.split(" ")
                found[ident] = (float(ts), LastHit(_VERDICTS[verdict], agent_or_none(agent)))
    return found


def _latest_of(hits: list[tuple[float, LastHit]]) -> LastHit | None:
    return max(hits, key=lambda h: h[0])[1] if hits else None
