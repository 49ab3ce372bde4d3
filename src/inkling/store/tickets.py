"""Tickets, their contacts, and what the triage queue reads about each open one.

A message belongs to a ticket by ``messages.ticket`` (given at sending: ``--ticket``, the
relay's ``X-Inkling-Ticket``, the API, an import's ``ticket``, or the subject pattern) or
by the ticket naming its Message-ID (``ticket_messages``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from inkling.errors import UnknownTicket
from inkling.model import (
    HIT_KINDS,
    Agent,
    Event,
    MessageRecord,
    Priority,
    Status,
    Ticket,
    Verdict,
    agent_or_none,
)
from inkling.store.engine import Database
from inkling.store.events import _event
from inkling.store.messages import _record
from inkling.store.schema import (
    SIGNALS_WHERE,
    contacts,
    events,
    messages,
    ticket_messages,
    tickets,
)

#: Rows asked for in one ``IN (...)``: well under every backend's parameter limit.
CHUNK = 5000
_HITS = tuple(kind.value for kind in HIT_KINDS)


@dataclass(frozen=True, slots=True)
class LastHit:
    """The latest open or click on a message that was not judged a person's."""

    verdict: Verdict
    agent: Agent | None


@dataclass(slots=True)
class Thread:
    """The copies of one sent message (one Message-ID) and what came back on them up to a
    time: every signal event (people's hits and returned mail), and the latest other hit."""

    copies: list[MessageRecord]
    signals: list[Event]
    last_other_hit: LastHit | None

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
            latest = _latest_copies(connection, ticket_ids, at)
            copy_ids = [c.id for copies in latest.values() for c in copies]
            signals = _signals(connection, copy_ids, at)
            others = _last_other_hits(connection, copy_ids, at)
        threads = {}
        for ticket, copies in latest.items():
            ids = [c.id for c in copies]
            found = sorted((e for i in ids for e in signals.get(i, ())), key=lambda e: e.ts)
            last = _latest_of([others[i] for i in ids if i in others])
            threads[ticket] = Thread(copies, found, last)
        return threads

    def thread(self, copies: Sequence[MessageRecord], at: float) -> Thread:
        """One message's copies with their signals up to ``at``."""
        ids = [c.id for c in copies]
        with self._db.connect() as connection:
            signals = _signals(connection, ids, at)
            others = _last_other_hits(connection, ids, at)
        found = sorted((e for i in ids for e in signals.get(i, ())), key=lambda e: e.ts)
        return Thread(list(copies), found, _latest_of([others[i] for i in ids if i in others]))

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


def _latest_copies(
    connection: Connection, ticket_ids: Sequence[str], at: float
) -> dict[str, list[MessageRecord]]:
    """Each ticket's copies, by either route, sent by ``at``; then only the latest
    Message-ID's copies."""
    by_ticket: dict[str, dict[str, MessageRecord]] = {}
    for chunk in _chunks(ticket_ids):
        direct = select(messages, messages.c.ticket.label("owner")).where(
            messages.c.ticket.in_(chunk), messages.c.sent_at <= at
        )
        named = (
            select(messages, ticket_messages.c.ticket.label("owner"))
            .join(ticket_messages, ticket_messages.c.message_id == messages.c.message_id)
            .where(ticket_messages.c.ticket.in_(chunk), messages.c.sent_at <= at)
        )
        for query in (direct, named):
            for row in connection.execute(query):
                by_ticket.setdefault(row.owner, {})[row.id] = _record(row._mapping)
    return {ticket: _latest_message(list(copies.values())) for ticket, copies in by_ticket.items()}


def _latest_message(copies: list[MessageRecord]) -> list[MessageRecord]:
    sent: dict[str, int] = {}
    for copy in copies:
        sent[copy.message_id] = min(sent.get(copy.message_id, copy.sent_at), copy.sent_at)
    latest = max(sent, key=lambda m: (sent[m], m))
    return sorted((c for c in copies if c.message_id == latest), key=lambda c: c.id)


def _signals(connection: Connection, copy_ids: Sequence[str], at: float) -> dict[str, list[Event]]:
    """People's hits and returned mail on these copies by ``at``, by copy (the partial
    index ``ix_events_signals`` serves exactly this condition)."""
    found: dict[str, list[Event]] = {}
    for chunk in _chunks(copy_ids):
        query = (
            select(events)
            .where(events.c.message.in_(chunk), events.c.ts <= at)
            .where(_signal_condition())
            .order_by(events.c.message, events.c.ts)
        )
        for row in connection.execute(query):
            found.setdefault(row.message, []).append(_event(row._mapping))
    return found


def _signal_condition() -> Any:
    from sqlalchemy import text

    return text(f"({SIGNALS_WHERE})")


def _last_other_hits(
    connection: Connection, copy_ids: Sequence[str], at: float
) -> dict[str, tuple[float, LastHit]]:
    """For each copy, its latest open or click by ``at`` not judged a person's: one step
    back along ``ix_events_message_ts`` per copy, not a scan of its machine fetches."""
    latest = (
        select(events.c.ts, events.c.verdict, events.c.agent)
        .where(
            events.c.message == messages.c.id,
            events.c.ts <= at,
            events.c.kind.in_(_HITS),
            events.c.verdict != Verdict.HUMAN.value,
        )
        .order_by(events.c.ts.desc())
        .limit(1)
        .correlate(messages)
    )
    sub = latest.subquery().lateral() if connection.dialect.name == "postgresql" else None
    found: dict[str, tuple[float, LastHit]] = {}
    for chunk in _chunks(copy_ids):
        if sub is not None:
            query = (
                select(messages.c.id, sub.c.ts, sub.c.verdict, sub.c.agent)
                .select_from(messages.join(sub, sub.c.ts.is_not(None)))
                .where(messages.c.id.in_(chunk))
            )
        else:
            query = select(
                messages.c.id,
                latest.with_only_columns(events.c.ts).scalar_subquery().label("ts"),
                latest.with_only_columns(events.c.verdict).scalar_subquery().label("verdict"),
                latest.with_only_columns(events.c.agent).scalar_subquery().label("agent"),
            ).where(messages.c.id.in_(chunk))
        for row in connection.execute(query):
            if row.ts is not None:
                hit = LastHit(Verdict(row.verdict), agent_or_none(row.agent))
                found[row.id] = (row.ts, hit)
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
