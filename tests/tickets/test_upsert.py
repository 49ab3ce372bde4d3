"""Ticket upserts: the contract's shape checked field by field, and stored as an upsert."""

from __future__ import annotations

from typing import Any

import pytest

from inkling.errors import TicketError, UnknownTicket
from inkling.model import MessageIdHeader, MessageRecord, Priority, Status
from inkling.store import Store
from inkling.tickets.importing import import_tickets
from inkling.tickets.upsert import parse_ticket, ticket_json
from inkling.tokens import new_message_id

CONTRACT = {
    "id": "4123",
    "subject": "Charged twice",
    "priority": "urgent",
    "status": "open",
    "team": "billing",
    "assignee": "sam@help.example",
    "requester": "Ana@Customer.example",
    "created_at": "2026-12-04T10:00:00+01:00",
    "updated_at": "2026-12-04T10:05:00+01:00",
    "solved_at": None,
    "message_ids": ["<CA+x@mail.example>"],
    "source": "zendesk",
    "channel": "email",
}


def test_the_contracts_example_reads_back_as_written() -> None:
    ticket = parse_ticket(CONTRACT)
    assert (ticket.priority, ticket.status) == (Priority.URGENT, Status.OPEN)
    assert ticket.requester == "ana@customer.example"
    assert ticket.extra == {"channel": "email"}
    shaped = ticket_json(ticket)
    assert shaped["created_at"] == "2026-12-04T09:00:00Z"
    assert shaped["message_ids"] == ["<CA+x@mail.example>"] and shaped["channel"] == "email"


def test_defaults_and_epoch_times() -> None:
    ticket = parse_ticket({"id": 77, "created_at": 1796000000})
    assert (ticket.id, ticket.priority, ticket.status) == ("77", Priority.NORMAL, Status.OPEN)
    assert ticket.updated_at == ticket.created_at == 1796000000.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priority": "critical"}, "priority must be one of low|normal|high|urgent"),
        ({"status": 3}, "status must be a string"),
        ({"created_at": "yesterday", "updated_at": None}, "created_at must be ISO 8601"),
        ({"created_at": None, "updated_at": None}, "created_at or updated_at is required"),
        ({"requester": "not an address"}, "requester must be an email address"),
        ({"id": ""}, "id is required"),
        ({"id": ["4123"]}, "id must be a string"),
        ({"message_ids": "<a@b>"}, "message_ids must be a list"),
        ({"created_at": float("nan")}, "created_at must be a time"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(TicketError, match=field):
        parse_ticket(CONTRACT | change)


def test_the_url_id_and_the_body_id_must_agree() -> None:
    assert parse_ticket({"created_at": 1}, ticket_id="9").id == "9"
    with pytest.raises(TicketError, match="does not match"):
        parse_ticket(CONTRACT, ticket_id="9")


def test_an_older_update_is_ignored_and_a_newer_one_replaces(store: Store) -> None:
    assert store.tickets.upsert(parse_ticket(CONTRACT)) is True
    older = CONTRACT | {"status": "solved", "updated_at": "2026-12-04T10:01:00+01:00"}
    assert store.tickets.upsert(parse_ticket(older)) is False
    assert store.tickets.get("4123").status is Status.OPEN
    newer = CONTRACT | {"status": "pending", "updated_at": "2026-12-04T11:00:00+01:00"}
    assert store.tickets.upsert(parse_ticket(newer)) is True
    stored = store.tickets.get("4123")
    assert stored.status is Status.PENDING and stored.extra == {"channel": "email"}
    with pytest.raises(UnknownTicket):
        store.tickets.get("nope")


def test_messages_join_by_ticket_message_ids_and_subject(store: Store) -> None:
    store.tickets.upsert(parse_ticket(CONTRACT))
    by_field = MessageRecord(new_message_id(), MessageIdHeader("<f@h>"), None, "4123", "x", 1, 0)
    by_header = MessageRecord(
        new_message_id(), MessageIdHeader("<CA+x@mail.example>"), None, None, "y", 2, 0
    )
    by_subject = MessageRecord(
        new_message_id(), MessageIdHeader("<s@h>"), None, None, "Re: refund [#4123]", 3, 0
    )
    other = MessageRecord(new_message_id(), MessageIdHeader("<o@h>"), None, None, "[#999]", 4, 0)
    store.messages.register_all([(r, []) for r in (by_field, by_header, by_subject, other)])
    found = [m.message_id for m in store.tickets.messages_of("4123")]
    assert found == ["<f@h>", "<CA+x@mail.example>", "<s@h>"]


def test_an_import_reports_bad_lines_and_keeps_the_rest(store: Store) -> None:
    lines = [
        b'{"id": "1", "created_at": "2026-12-01T09:00:00Z"}\n',
        b"not json\n",
        b"\n",
        b'{"id": "2", "priority": "sky-high", "created_at": 1}\n',
        b'{"id": "3", "created_at": "2026-12-01T09:00:00Z", "priority": "low"}\n',
        b"\xff\xfe\n",
        b'{"id": "1", "created_at": "2026-12-01T09:00:00Z", "updated_at": 0}\n',
    ]
    result = import_tickets(store, lines)
    assert (result.stored, result.older) == (2, 1)
    assert [(b.line, b.error.split(":")[0]) for b in result.bad] == [
        (2, "not JSON"),
        (4, "priority must be one of low|normal|high|urgent, not 'sky-high'"),
        (6, "not UTF-8 text (invalid start byte at byte 0)"),
    ]
    assert store.tickets.get("3").priority is Priority.LOW
