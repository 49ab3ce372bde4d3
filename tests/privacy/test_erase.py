"""A data-subject request on each backend: what an export holds, and that after an erase
no table or column holds the address, its lowercase form or the SHA-256 of either.

The address is planted everywhere it lands in real use: a ticket's requester and subject,
the contact, a copy sent to them alone and one shared with another person, a subject that
names them, a bounce's details, a link's query, a helpdesk's hash of them, a webhook
payload, an opt-out and a delivery claim, in mixed case and in lowercase."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from inkling.api.privacy import privacy_router
from inkling.errors import RequestError
from inkling.model import (
    Agent,
    Event,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Verdict,
    VerdictChange,
    new_event_id,
)
from inkling.store import Claim, ClaimState, Store
from inkling.store.schema import event_tallies
from inkling.store.webhooks import Subscription, Webhooks
from inkling.tickets.upsert import parse_ticket
from inkling.tokens import new_message_id

ADDRESS = "Ana.Lopez@Customer.example"
LOWER = ADDRESS.lower()
OTHER = "ben@other.example"
SENT = 1_790_000_000
OPT_OUT_KEY = b"k" * 32
_SECONDS = itertools.count(3600)


def sha256(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


#: What the bar's scan looks for: the address, its lowercase form, the SHA-256 of either.
NEEDLES = [ADDRESS, LOWER, sha256(ADDRESS), sha256(LOWER)]


@dataclass
class Planted:
    own: InklingId  # sent to Ana alone
    shared: InklingId  # sent to Ana and Ben
    unaddressed: InklingId  # registered by `inkling instrument` on Ana's ticket
    other: InklingId  # sent to Ben alone
    digest: str  # Ana's opt-out
    own_events: int


def _copy(
    store: Store, recipient: str, subject: str, ticket: str, urls: list[str], n: int
) -> InklingId:
    ident = new_message_id()
    record = MessageRecord(
        id=ident,
        message_id=MessageIdHeader(f"<m{n}.{ident}@help.example>"),
        workflow="support",
        ticket=ticket,
        subject=subject,
        sent_at=SENT + n,
        links_total=len(urls),
        recipient=recipient,
    )
    store.messages.register(record, urls)
    return ident


def _event(message: InklingId, kind: EventKind, verdict: Verdict, **more: object) -> Event:
    return Event(
        id=new_event_id(),
        message=message,
        kind=kind,
        ts=SENT + float(next(_SECONDS)),  # in the order made
        verdict=verdict,
        agent=Agent.BROWSER if verdict is Verdict.HUMAN else None,
        reasons=["a plain reason"],
        **more,  # type: ignore[arg-type]
    )


def plant(store: Store) -> Planted:
    for ident, requester, subject in (
        ("T-1", ADDRESS, f"Refund for {ADDRESS}"),
        ("T-2", OTHER, "Where is my parcel?"),
    ):
        store.tickets.upsert(
            parse_ticket(
                {
                    "subject": subject,
                    "requester": requester,
                    "team": "billing",
                    "created_at": "2026-12-04T10:00:00+01:00",
                    "message_ids": [f"<named-{ident}@help.example>"],
                    "avatar_hash": sha256(requester.lower()),  # kept in ``extra``
                },
                ticket_id=ident,
            )
        )
    own = _copy(
        store,
        LOWER,
        f"Your refund, {ADDRESS}",
        "T-1",
        [f"https://shop.example/refund?email={LOWER.replace('@', '%40')}", "https://help.example/"],
        1,
    )
    shared = _copy(store, f"{ADDRESS}, {OTHER}", "Your order", "T-1", ["https://help.example/"], 2)
    unaddressed = _copy(store, "", "Re: Refund [#T-1]", "T-1", [], 3)
    other = _copy(store, OTHER, "Your parcel", "T-2", [], 4)

    opened = _event(own, EventKind.OPEN, Verdict.UNKNOWN, user_agent="Mozilla/5.0")
    own_events = [
        opened,
        _event(own, EventKind.CLICK, Verdict.MACHINE, link=0),
        _event(
            own,
            EventKind.BOUNCE,
            Verdict.UNKNOWN,
            method="SMTP",
            details={"recipient": ADDRESS, "diagnostic": f"550 5.1.1 <{ADDRESS.upper()}>: unknown"},
        ),
        _event(unaddressed, EventKind.OPEN, Verdict.HUMAN),
    ]
    store.events.insert(
        [
            *own_events,
            _event(shared, EventKind.OPEN, Verdict.HUMAN, evidence={"x-avatar": sha256(ADDRESS)}),
            _event(shared, EventKind.REPLY, Verdict.UNKNOWN, details={"from": OTHER}),
            _event(other, EventKind.OPEN, Verdict.HUMAN),
        ]
    )
    store.events.insert(
        [],
        [
            VerdictChange(
                event=opened.id,
                message=own,
                previous=Verdict.UNKNOWN,
                previous_agent=None,
                verdict=Verdict.HUMAN,
                agent=Agent.BROWSER,
                reasons=["a person opened it later"],
                changed_at=SENT + 7200.0,
            )
        ],
    )
    webhooks = Webhooks(store.database)
    webhooks.add(Subscription("whs_1", "https://hooks.example/in", ("*",), "whsec_x", SENT))
    for event_id, recipient in (("ev-ana", ADDRESS), ("ev-ben", OTHER)):
        webhooks.publish("message.bounced", event_id, {"recipient": recipient}, time.time())
    digest = hmac.new(OPT_OUT_KEY, LOWER.encode(), hashlib.sha256).hexdigest()
    store.optouts.add(digest, LOWER, "address", "page")
    store.deliveries.claim(
        [Claim("<m2@help.example>", f"{LOWER}, {OTHER}", shared, ClaimState.CLAIMED, "h", 0, 0)]
    )
    return Planted(own, shared, unaddressed, other, digest, len(own_events))


def test_after_an_erase_no_table_holds_the_address_or_its_hash(store: Store) -> None:
    planted = plant(store)
    assert store.subjects.scan(NEEDLES)  # the scan does find what was planted

    erased = store.subjects.erase(ADDRESS)

    assert store.subjects.scan(NEEDLES) == []
    assert (erased.contact, erased.tickets) == (1, 1)
    assert (erased.messages, erased.shared_messages) == (2, 1)
    assert erased.events == planted.own_events
    assert erased.optouts == 1
    assert erased.redacted  # the subject, the extra hash, the payload... found by the sweep


def test_the_other_recipient_keeps_their_data(store: Store) -> None:
    planted = plant(store)
    store.subjects.erase(ADDRESS)

    assert store.tickets.get("T-2").requester == OTHER
    shared = store.messages.find(planted.shared)
    assert shared.recipient == OTHER
    kinds = {e.kind for e in store.events.for_message(planted.shared)}
    assert kinds == {EventKind.OPEN, EventKind.REPLY}
    assert store.messages.links(planted.shared) == ["https://help.example/"]
    assert [e.kind for e in store.events.for_message(planted.other)] == [EventKind.OPEN]
    ben = store.subjects.export(OTHER)
    assert ben["contact"]["address"] == OTHER
    assert [t["id"] for t in ben["tickets"]] == ["T-2"]
    assert {m["id"] for m in ben["messages"]} == {planted.shared, planted.other}
    assert [f["table"] for f in ben["elsewhere"]] == ["webhook_outbox"]  # Ben's own payload


def test_the_erased_copies_are_gone_with_their_links_and_history(store: Store) -> None:
    planted = plant(store)
    store.subjects.erase(ADDRESS)

    for ident in (planted.own, planted.unaddressed):
        with pytest.raises(Exception, match="no message"):
            store.messages.find(ident)
        assert store.events.for_message(ident) == []
        assert store.messages.links(ident) == []
        assert store.events.changes(ident) == []
    assert store.deliveries.unsettled() == []


def test_anonymous_counts_are_kept(store: Store) -> None:
    planted = plant(store)
    store.subjects.erase(ADDRESS)

    c = event_tallies.c
    query = select(c.kind, c.verdict, func.sum(c.count)).where(c.message.is_(None))
    with store.database.connect() as connection:
        rows = connection.execute(query.group_by(c.kind, c.verdict)).all()
    counts = {(kind, verdict): int(n) for kind, verdict, n in rows}
    assert counts == {
        ("open", "human"): 2,  # the change made the first open a person's
        ("click", "machine"): 1,
        ("bounce", "unknown"): 1,
    }
    assert sum(counts.values()) == planted.own_events


def test_the_opt_out_stays_without_the_address(store: Store) -> None:
    planted = plant(store)
    store.subjects.erase(ADDRESS)

    found = store.optouts.any_of([planted.digest])
    assert found is not None and found.address is None  # still untracked


def test_the_export_holds_everything_on_the_contact(store: Store) -> None:
    planted = plant(store)

    held = store.subjects.export(ADDRESS.upper())  # any case names them

    assert held["address"] == LOWER
    assert held["contact"]["address"] == LOWER
    [ticket] = held["tickets"]
    assert (ticket["id"], ticket["subject"]) == ("T-1", f"Refund for {ADDRESS}")
    assert ticket["message_ids"] == ["<named-T-1@help.example>"]
    assert ticket["created_at"] == "2026-12-04T09:00:00Z"
    copies = {m["id"]: m for m in held["messages"]}
    assert set(copies) == {planted.own, planted.shared, planted.unaddressed}
    assert copies[planted.shared]["shared"] is True
    own = copies[planted.own]
    assert [link["idx"] for link in own["links"]] == [0, 1]
    assert [e["kind"] for e in own["events"]] == ["open", "click", "bounce"]
    bounce = own["events"][2]
    assert bounce["details"]["recipient"] == ADDRESS and bounce["reasons"] == ["a plain reason"]
    assert own["verdict_changes"][0]["verdict"] == "human"
    assert [o["scope"] for o in held["optouts"]] == ["address"]
    # What no part above holds: the webhook payload and the delivery claim.
    assert sorted(f["table"] for f in held["elsewhere"]) == ["deliveries", "webhook_outbox"]


def test_an_export_of_someone_unknown_is_empty(store: Store) -> None:
    plant(store)
    held = store.subjects.export("nobody@nowhere.example")
    assert held["contact"] is None
    assert held["tickets"] == held["messages"] == held["optouts"] == held["elsewhere"] == []


def test_other_people_whose_address_contains_it_are_left_alone(store: Store) -> None:
    """Erasing ana.lopez@customer.example is not erasing xana.lopez@customer.example, nor
    ana.lopez@customer.example.au."""
    plant(store)
    longer = [f"x{LOWER}", f"{LOWER}.au"]
    for n, address in enumerate(longer):
        _copy(store, address, f"Hello {address}", f"T-{9 + n}", [], 10 + n)
    store.subjects.erase(ADDRESS)

    for address in longer:
        assert [m["recipient"] for m in store.subjects.export(address)["messages"]] == [address]


def test_a_table_added_later_is_swept_too(store: Store) -> None:
    plant(store)
    with store.database.begin() as connection:
        connection.execute(text("CREATE TABLE later_notes (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(
            text("INSERT INTO later_notes (id, body) VALUES (1, :body)"),
            {"body": f"called {ADDRESS} about the refund"},
        )
    try:
        store.subjects.erase(LOWER)
        assert store.subjects.scan(NEEDLES) == []
        with store.database.connect() as connection:
            body = connection.execute(text("SELECT body FROM later_notes")).scalar_one()
        assert body == "called [erased] about the refund"
    finally:
        with store.database.begin() as connection:
            connection.execute(text("DROP TABLE later_notes"))


@pytest.mark.parametrize("given", ["", "ana", "a@b, c@d", "two@at@signs", "@domain.example"])
def test_what_is_not_one_address_is_refused(store: Store, given: str) -> None:
    with pytest.raises(RequestError, match="not an email address"):
        store.subjects.erase(given)


def _api(store: Store) -> FastAPI:
    """The privacy routes behind a dependency that names the caller (the API's own
    checks scopes too: tests/api)."""
    app = FastAPI()
    app.include_router(privacy_router(store, lambda: "lead@help.example", retention_days=180))
    return app


def _call(app: FastAPI, method: str, url: str, **given: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.request(method, url, **given)

    return asyncio.run(call())


def test_the_api_exports_and_erases_with_audit_entries_naming_the_caller(store: Store) -> None:
    planted = plant(store)
    app = _api(store)

    exported = _call(app, "GET", f"/api/v1/contacts/{ADDRESS}/export")
    assert exported.status_code == 200
    assert {m["id"] for m in exported.json()["messages"]} >= {planted.own, planted.shared}
    erased = _call(app, "DELETE", f"/api/v1/contacts/{ADDRESS}")
    assert erased.status_code == 200
    assert erased.json()["messages"] == 2 and erased.json()["shared_messages"] == 1
    assert store.subjects.scan(NEEDLES) == []
    entries = store.audit.entries()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("lead@help.example", "contact.export", "a contact (1 ticket, 3 messages)"),
        ("lead@help.example", "contact.erase", "a contact (1 ticket, 3 messages)"),
    ]
    assert _call(app, "GET", "/api/v1/contacts/ana/export").status_code == 422


def test_the_api_purges_by_the_retention_setting_or_the_days_asked(store: Store) -> None:
    app = _api(store)
    message = new_message_id()
    store.events.insert(
        [
            Event(new_event_id(), message, EventKind.OPEN, time.time() - 200 * 86400),
            Event(new_event_id(), message, EventKind.OPEN, time.time() - 20 * 86400),
        ]
    )
    first = _call(app, "POST", "/api/v1/purge")
    assert first.status_code == 200
    assert (first.json()["older_than_days"], first.json()["events"]) == (180, 1)
    second = _call(app, "POST", "/api/v1/purge", json={"older_than_days": 7})
    assert (second.json()["older_than_days"], second.json()["events"]) == (7, 1)
    assert _call(app, "POST", "/api/v1/purge", json={"older_than_days": 0}).status_code == 422
    assert [e.details["events"] for e in store.audit.entries()] == [1, 1]
