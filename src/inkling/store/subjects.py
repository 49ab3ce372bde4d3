"""Data-subject requests: everything held on a contact, exported or erased.

A contact is an email address, matched in any case. What is theirs:

- their ``contacts`` row and the tickets they requested (with the Message-IDs those name);
- the copies whose ``recipient`` names them: a copy sent to them alone is theirs (with its
  links, events, verdict history and any delivery claim), a copy shared with others
  (``"a@x, b@y"``) is also the others', so an erase only takes their address out of it;
- the copies of their tickets registered without a recipient (``inkling instrument``);
- their opt-outs: an erase keeps the row, without the address, so its digest (an HMAC
  under the data dir's key, which nobody can turn back into the address) keeps them
  untracked;
- anything else any table holds that names them: found and redacted by ``store/sweep.py``
  from the live schema.

An erase is one transaction: it happens whole or not at all. The events it deletes leave
their counts in ``event_tallies`` with no message: anonymous, but the totals still add up.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, update

from inkling.errors import RequestError
from inkling.store import sweep
from inkling.store.engine import Database, chunks
from inkling.store.messages import on_tickets
from inkling.store.retention import TALLIED, tally
from inkling.store.schema import (
    contacts,
    deliveries,
    events,
    links,
    messages,
    optouts,
    ticket_messages,
    tickets,
    verdict_changes,
    webhook_outbox,
)
from inkling.times import iso

# One @, something on each side, no spaces, commas or controls: enough to refuse a typo
# that would sweep half the database ("erase --contact a"), not a full RFC 5322 parser.
_ADDRESS = re.compile(r"[^@\s,;<>\"\x00-\x1f\x7f]{1,64}@[^@\s,;<>\"\x00-\x1f\x7f]{1,253}")
#: Columns that hold times (Unix seconds) and JSON, as an export writes them.
_TIMES = frozenset({"sent_at", "relayed_at", "created_at", "updated_at", "solved_at", "ts"})
_JSON = frozenset({"evidence", "details", "reasons", "leanings", "extra"})


def contact_address(text: str) -> str:
    """``text`` as a contact's address (stripped, lowercase); RequestError("contact")
    for anything that is not one address."""
    address = text.strip()
    if not _ADDRESS.fullmatch(address):
        raise RequestError("contact", f"not an email address: {text!r}")
    return address.lower()


@dataclass(frozen=True, slots=True)
class Held:
    """What is held on a contact, by key: enough to export or erase it."""

    address: str
    contact: bool
    tickets: list[str]
    own: list[str]  # copies theirs alone
    shared: dict[str, str] = field(default_factory=dict)  # copy -> its recipient field

    def words(self) -> str:
        """The contact in words that do not hold the address (for the audit log)."""
        return contact_words(len(self.tickets), len(self.own) + len(self.shared))


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erase removed. ``shared_messages``: copies kept for their other recipients,
    the address taken out; ``optouts``: kept, without the address; ``redacted``: values
    the sweep erased (or rows it deleted) elsewhere, by table."""

    contact: int
    tickets: int
    messages: int
    shared_messages: int
    links: int
    events: int
    verdict_changes: int
    deliveries: int
    webhook_deliveries: int
    optouts: int
    anonymous_tallies: int
    redacted: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def words(self) -> str:
        """What was removed, in words that do not hold the address."""
        return contact_words(self.tickets, self.messages + self.shared_messages)


def contact_words(tickets: int, messages: int) -> str:
    """A contact named without their address: "a contact (3 tickets, 12 messages)"."""
    return f"a contact ({_count(tickets, 'ticket')}, {_count(messages, 'message')})"


def export_counts(exported: dict[str, Any]) -> dict[str, int]:
    """How much an export holds, by part (an audit entry's details)."""
    copies = exported["messages"]
    return {
        "contact": int(exported["contact"] is not None),
        "tickets": len(exported["tickets"]),
        "messages": len(copies),
        "events": sum(len(c["events"]) for c in copies),
        "optouts": len(exported["optouts"]),
        "elsewhere": len(exported["elsewhere"]),
    }


class Subjects:
    """Exports and erases what is held on a contact."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def held(self, address: str) -> Held:
        """What is held on ``address`` (RequestError if it is not an address)."""
        wanted = contact_address(address)
        with self._db.connect() as connection:
            return _held(connection, wanted)

    def export(self, address: str) -> dict[str, Any]:
        """Everything held on ``address`` as JSON-able data, times in ISO 8601 UTC."""
        wanted = contact_address(address)
        with self._db.connect() as connection:
            held = _held(connection, wanted)
            exported = {
                "address": wanted,
                "contact": _first(_rows(connection, contacts, _is(contacts.c.address, wanted))),
                "tickets": _tickets(connection, held.tickets),
                "messages": _messages(connection, [*held.own, *held.shared], held),
                "optouts": _rows(connection, optouts, _is(optouts.c.address, wanted)),
            }
            exported["elsewhere"] = _elsewhere(connection, address, _keys(exported))
        return exported

    def erase(self, address: str) -> Erased:
        """Remove everything held on ``address``, keeping anonymous counts (one
        transaction); what was removed."""
        wanted = contact_address(address)
        with self._db.begin() as connection:
            tables = sweep.text_columns(connection)
            spellings = sweep.spelled(connection, address, tables)  # before their rows go
            held = _held(connection, wanted)
            removed = _erase_copies(connection, held.own)
            shared = _take_out(connection, held, wanted)
            removed["tickets"] = _delete_tickets(connection, held.tickets)
            removed["contact"] = _count_of(
                connection.execute(delete(contacts).where(_is(contacts.c.address, wanted)))
            )
            removed["optouts"] = _count_of(
                connection.execute(
                    update(optouts).where(_is(optouts.c.address, wanted)).values(address=None)
                )
            )
            redacted = sweep.redact(connection, spellings, tables)
        return Erased(shared_messages=shared, redacted=redacted, **removed)

    def scan(self, wanted: Sequence[str], *, whole: bool = False) -> list[sweep.Finding]:
        """Every value of every table and column holding one of ``wanted`` (any case):
        what the erase test checks is empty."""
        with self._db.connect() as connection:
            return sweep.find(connection, [w.lower() for w in wanted], whole=whole)


def _held(connection: Connection, wanted: str) -> Held:
    contact = connection.execute(
        select(contacts.c.address).where(_is(contacts.c.address, wanted))
    ).first()
    ticket_ids = list(
        connection.execute(select(tickets.c.id).where(_is(tickets.c.requester, wanted))).scalars()
    )
    own: list[str] = []
    shared: dict[str, str] = {}
    named = func.lower(messages.c.recipient).contains(wanted, autoescape=True)
    for ident, recipient in connection.execute(
        select(messages.c.id, messages.c.recipient).where(named)
    ):
        names = {r.strip().lower() for r in recipient.split(",") if r.strip()}
        if names == {wanted}:
            own.append(ident)
        elif wanted in names:
            shared[ident] = recipient
    own += _unaddressed_copies(connection, ticket_ids)
    return Held(wanted, contact is not None, ticket_ids, sorted(set(own)), shared)


def _unaddressed_copies(connection: Connection, ticket_ids: Sequence[str]) -> list[str]:
    """The copies of these tickets registered without a recipient: theirs too."""
    found: list[str] = []
    for chunk in chunks(ticket_ids):
        query = select(messages.c.id).where(messages.c.recipient == "", on_tickets(chunk))
        found += connection.execute(query).scalars()
    return found


def _erase_copies(connection: Connection, copies: Sequence[str]) -> dict[str, int]:
    """Delete copies theirs alone with all they hold, their events' counts tallied
    anonymously first."""
    removed = dict.fromkeys(
        ("messages", "links", "events", "verdict_changes", "deliveries", "webhook_deliveries"), 0
    )
    removed["anonymous_tallies"] = 0
    for chunk in chunks(copies):
        of_copies = events.c.message.in_(chunk)
        # locked, so a purge running now cannot count them too
        found = connection.execute(select(*TALLIED).where(of_copies).with_for_update()).all()
        removed["anonymous_tallies"] += tally(connection, found, keep_message=False)
        their_events = select(events.c.id).where(of_copies)
        for name, statement in (
            (
                "webhook_deliveries",
                delete(webhook_outbox).where(webhook_outbox.c.event.in_(their_events)),
            ),
            (
                "verdict_changes",
                delete(verdict_changes).where(verdict_changes.c.message.in_(chunk)),
            ),
            ("events", delete(events).where(of_copies)),
            ("deliveries", delete(deliveries).where(deliveries.c.copy.in_(chunk))),
            ("links", delete(links).where(links.c.message.in_(chunk))),
            ("messages", delete(messages).where(messages.c.id.in_(chunk))),
        ):
            removed[name] += _count_of(connection.execute(statement))
    return removed


def _take_out(connection: Connection, held: Held, wanted: str) -> int:
    """Take the address out of the copies shared with others; the copies changed."""
    for ident, recipient in held.shared.items():
        others = [r.strip() for r in recipient.split(",") if r.strip().lower() != wanted]
        connection.execute(
            update(messages).where(messages.c.id == ident).values(recipient=", ".join(others))
        )
    return len(held.shared)


def _delete_tickets(connection: Connection, ticket_ids: Sequence[str]) -> int:
    deleted = 0
    for chunk in chunks(ticket_ids):
        connection.execute(delete(ticket_messages).where(ticket_messages.c.ticket.in_(chunk)))
        deleted += _count_of(connection.execute(delete(tickets).where(tickets.c.id.in_(chunk))))
    return deleted


# -- the export ---------------------------------------------------------------------------


def _tickets(connection: Connection, ticket_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Each ticket with the Message-IDs it names."""
    found: list[dict[str, Any]] = []
    named: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks(ticket_ids):
        found += _rows(connection, tickets, tickets.c.id.in_(chunk))
        rows = _rows(connection, ticket_messages, ticket_messages.c.ticket.in_(chunk))
        named |= _grouped(rows, "ticket")
    for ticket in found:
        ticket["message_ids"] = [n["message_id"] for n in named.get(ticket["id"], [])]
    return sorted(found, key=lambda t: (t["created_at"], t["id"]))


def _messages(connection: Connection, copies: Sequence[str], held: Held) -> list[dict[str, Any]]:
    """Each copy with its links, events (verdicts, reasons) and verdict history."""
    found = []
    for chunk in chunks(copies):
        linked = _grouped(_rows(connection, links, links.c.message.in_(chunk)), "message")
        happened = _grouped(_rows(connection, events, events.c.message.in_(chunk)), "message")
        changed = _grouped(
            _rows(connection, verdict_changes, verdict_changes.c.message.in_(chunk)), "message"
        )
        for copy in _rows(connection, messages, messages.c.id.in_(chunk)):
            ident = copy["id"]
            copy["shared"] = ident in held.shared
            copy["links"] = linked.get(ident, [])
            copy["events"] = sorted(happened.get(ident, []), key=lambda e: (e["ts"], e["id"]))
            copy["verdict_changes"] = changed.get(ident, [])
            found.append(copy)
    return sorted(found, key=lambda c: (c["sent_at"], c["id"]))


def _elsewhere(connection: Connection, address: str, covered: set[Any]) -> list[dict[str, Any]]:
    """Values naming the contact in rows the rest of the export does not hold."""
    tables = sweep.text_columns(connection)
    spellings = sweep.spelled(connection, address, tables)
    return [
        {"table": f.table, "column": f.column, "value": f.value}
        for f in sweep.find(connection, spellings, whole=True, tables=tables)
        if (f.table, f.key) not in covered
    ]


def _keys(exported: dict[str, Any]) -> set[tuple[str, tuple[Any, ...]]]:
    """The (table, primary key) of every row the export holds."""
    keys: set[tuple[str, tuple[Any, ...]]] = set()
    if exported["contact"] is not None:
        keys.add(("contacts", (exported["contact"]["address"],)))
    for ticket in exported["tickets"]:
        keys.add(("tickets", (ticket["id"],)))
        keys |= {("ticket_messages", (ticket["id"], m)) for m in ticket["message_ids"]}
    for copy in exported["messages"]:
        keys.add(("messages", (copy["id"],)))
        keys |= {("links", (copy["id"], link["idx"])) for link in copy["links"]}
        keys |= {("events", (event["id"],)) for event in copy["events"]}
        keys |= {("verdict_changes", (change["id"],)) for change in copy["verdict_changes"]}
    keys |= {("optouts", (optout["digest"],)) for optout in exported["optouts"]}
    return keys


def _rows(connection: Connection, table: Table, where: Any) -> list[dict[str, Any]]:
    return [_plain(row._mapping) for row in connection.execute(select(table).where(where))]


def _plain(row: Any) -> dict[str, Any]:
    """A row as JSON: times in ISO 8601 UTC, JSON text as the values it holds."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name in _TIMES and isinstance(value, int | float):
            out[name] = iso(value)
        elif name in _JSON and isinstance(value, str):
            out[name] = _loads(value)
        else:
            out[name] = value
    return out


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _grouped(rows: list[dict[str, Any]], by: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row[by], []).append(row)
    return grouped


def _first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[0] if rows else None


def _is(column: Any, wanted: str) -> Any:
    """``column`` is the address, in any case."""
    return func.lower(column) == wanted


def _count_of(result: Any) -> int:
    return max(int(result.rowcount), 0)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
