"""Webhook subscriptions and their outbox: the only SQL of webhooks and the live feed.

The outbox is written by the store itself, in the same transaction as the events it
announces (:func:`enqueue_loaded` on the journal loader's driver cursor,
:func:`enqueue_inserted` on :meth:`Events.insert`'s connection): nothing stored is missed
and nothing is announced that was not stored. With no subscription the cost is one small
``SELECT`` a transaction. A row is one event for one subscription, so a dead endpoint
holds back only its own rows. Its payload is written on the first attempt, from the event
as stored then (verdict included), and kept for the retries: a verdict changed later is
not announced again.

A subscription's rows go out in the order they were queued: its oldest pending row is its
head, and rows behind a head that is not due yet (a failed delivery waiting for its
retry) wait with it, so a down endpoint is tried once per backoff, not once per row. A
row is ``pending`` until delivered (then deleted: at least once, so an event loaded twice
after its delivery may be announced again, under the same ``webhook-id``) or ``failed``
(given up on; kept until the subscription is removed, for ``inkling webhooks list``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, text, update

from inkling.errors import StoreError
from inkling.model import Event, EventKind
from inkling.store.engine import Database, dialect_insert
from inkling.store.schema import (
    SIGNALS_WHERE,
    announcements,
    events,
    links,
    messages,
    webhook_outbox,
    webhook_subscriptions,
)
from inkling.times import iso

#: How long an announcement's id is remembered (a recommendation due longer than this
#: without anyone acting on it is announced again).
ANNOUNCEMENTS_KEPT = 30 * 86_400.0

#: Every type a subscription listens to when it names ``*``.
ALL_TYPES = "*"
#: The webhook type of each kind of event (Inkling's own vocabulary, see docs/webhooks.md).
TYPE_OF_KIND: dict[str, str] = {
    EventKind.OPEN: "message.opened",
    EventKind.CLICK: "message.clicked",
    EventKind.REPLY: "message.replied",
    EventKind.BOUNCE: "message.bounced",
    EventKind.READ_RECEIPT: "message.read",
    EventKind.AUTOREPLY: "message.autoreplied",
    EventKind.COMPLAINT: "message.complained",
    EventKind.DELIVERED: "message.delivered",
}
#: Types published by other parts of Inkling through :meth:`Webhooks.publish`.
OTHER_TYPES = ("recommendation.due",)
EVENT_TYPES: tuple[str, ...] = (*TYPE_OF_KIND.values(), *OTHER_TYPES)


class OutboxState(StrEnum):
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Subscription:
    """An endpoint and the event types it wants (``("*",)`` for all)."""

    id: str
    url: str
    types: tuple[str, ...]
    secret: str
    created_at: float

    def wants(self, event_type: str) -> bool:
        return ALL_TYPES in self.types or event_type in self.types


@dataclass(frozen=True, slots=True)
class SubscriptionCounts:
    """A subscription with its outbox rows still to deliver and given up on."""

    subscription: Subscription
    pending: int
    failed: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """What the outbox or the feed knows of an event: the event as stored, with its
    message's Message-ID, ticket and recipient(s) and a click's link (None where the copy
    is not registered). Never its IP address."""

    id: str
    message: str
    kind: str
    ts: float
    verdict: str
    agent: str | None
    reasons: list[str]
    link: int | None
    link_url: str | None
    details: dict[str, str]
    message_id: str | None
    ticket: str | None
    recipient: str | None


@dataclass(frozen=True, slots=True)
class Due:
    """One outbox row to deliver now: its payload as first sent (None before the first
    attempt: build it from ``event``)."""

    row: int
    subscription: str
    event_id: str
    type: str
    attempts: int
    created_at: float
    due_at: float
    payload: str | None
    event: StoredEvent | None


class Webhooks:
    """Subscriptions and the outbox, one transaction a call; errors are StoreErrors."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # -- subscriptions ---------------------------------------------------------------------

    def add(self, subscription: Subscription) -> None:
        row = {
            "id": subscription.id,
            "url": subscription.url,
            "types": ",".join(subscription.types),
            "secret": subscription.secret,
            "created_at": subscription.created_at,
        }
        with self._db.begin() as connection:
            connection.execute(insert(webhook_subscriptions), [row])

    def remove(self, ident: str) -> bool:
        """Remove a subscription and its outbox; whether it existed."""
        with self._db.begin() as connection:
            connection.execute(delete(webhook_outbox).where(webhook_outbox.c.subscription == ident))
            gone = connection.execute(
                delete(webhook_subscriptions).where(webhook_subscriptions.c.id == ident)
            )
            return bool(gone.rowcount)

    def get(self, ident: str) -> Subscription | None:
        query = select(webhook_subscriptions).where(webhook_subscriptions.c.id == ident)
        with self._db.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _subscription(row._mapping)

    def subscriptions(self) -> list[Subscription]:
        query = select(webhook_subscriptions).order_by(webhook_subscriptions.c.created_at)
        with self._db.connect() as connection:
            return [_subscription(row._mapping) for row in connection.execute(query)]

    def counts(self) -> list[SubscriptionCounts]:
        """Every subscription with its pending and failed rows and its latest error (that
        of the newest row that has one: a failing head, else the last given up on)."""
        o = webhook_outbox.c
        tallies = select(o.subscription, o.state, func.count()).group_by(o.subscription, o.state)
        newest = (
            select(func.max(o.id))
            .where(o.last_error.is_not(None))
            .group_by(o.subscription)
            .scalar_subquery()
        )
        errors = select(o.subscription, o.last_error).where(o.id.in_(newest))
        with self._db.connect() as connection:
            counted = {(ident, state): n for ident, state, n in connection.execute(tallies)}
            said = {ident: error for ident, error in connection.execute(errors)}
        return [
            SubscriptionCounts(
                sub,
                counted.get((sub.id, OutboxState.PENDING), 0),
                counted.get((sub.id, OutboxState.FAILED), 0),
                said.get(sub.id),
            )
            for sub in self.subscriptions()
        ]

    # -- the outbox ------------------------------------------------------------------------

    def outbox_counts(self) -> dict[OutboxState, int]:
        """The outbox rows of every subscription by state: still to deliver (pending) and
        given up on (failed)."""
        o = webhook_outbox.c
        query = select(o.state, func.count()).group_by(o.state)
        with self._db.connect() as connection:
            counted = {state: n for state, n in connection.execute(query)}
        return {state: int(counted.get(state.value, 0)) for state in OutboxState}

    def publish(self, event_type: str, event_id: str, payload: dict[str, Any], now: float) -> int:
        """Queue ``payload`` (the ``data`` of the webhook, in the envelope ``{"type",
        "timestamp", "data"}``) under ``event_id`` for every subscription to
        ``event_type`` (e.g. ``recommendation.due``); the rows queued. Publishing the same
        id again queues nothing new for a subscription that has it."""
        envelope = {"type": event_type, "timestamp": iso(now), "data": payload}
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        with self._db.begin() as connection:
            wanted = [s for s in _read_subscriptions(connection) if s.wants(event_type)]
            rows = [_outbox_row(s.id, event_id, event_type, now, body) for s in wanted]
            if rows:
                connection.execute(_insert_ignoring(self._db.dialect), rows)
        return len(rows)

    def publish_once(
        self, event_type: str, event_id: str, payload: dict[str, Any], now: float
    ) -> bool:
        """Publish as :meth:`publish` does, but only the first time ``event_id`` is
        announced by any node (``announcements``); whether this was the first time."""
        taken = (
            self._db.insert(announcements)
            .values(id=event_id, type=event_type, announced_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(announcements.c.id)
        )
        envelope = {"type": event_type, "timestamp": iso(now), "data": payload}
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        with self._db.begin() as connection:
            if connection.execute(taken).first() is None:
                return False  # announced before, by this node or another
            wanted = [s for s in _read_subscriptions(connection) if s.wants(event_type)]
            rows = [_outbox_row(s.id, event_id, event_type, now, body) for s in wanted]
            if rows:
                connection.execute(_insert_ignoring(self._db.dialect), rows)
        return True

    def forget_announcements(self, now: float) -> int:
        """Forget the announcements made more than ``ANNOUNCEMENTS_KEPT`` seconds before
        ``now``; how many."""
        old = announcements.c.announced_at < now - ANNOUNCEMENTS_KEPT
        with self._db.begin() as connection:
            return int(connection.execute(delete(announcements).where(old)).rowcount)

    def heads(self) -> list[tuple[Subscription, float | None]]:
        """Every subscription with the ``due_at`` of its oldest pending row (None: nothing
        pending): when it next wants a delivery."""
        o = webhook_outbox.c
        head = (
            select(o.due_at)
            .where(o.subscription == webhook_subscriptions.c.id, o.state == OutboxState.PENDING)
            .order_by(o.id)
            .limit(1)
            .scalar_subquery()
        )
        query = select(webhook_subscriptions, head.label("head_due_at"))
        with self._db.connect() as connection:
            return [
                (_subscription(row._mapping), row.head_due_at) for row in connection.execute(query)
            ]

    def due(self, subscription: str, now: float, limit: int) -> list[Due]:
        """The pending rows of ``subscription`` in the order they were queued, with their
        events, up to the first that is not due by ``now``; at most ``limit``."""
        o, e, m, k = webhook_outbox.c, events.c, messages.c, links.c
        query = (
            select(webhook_outbox, *_EVENT_FIELDS)
            .select_from(
                webhook_outbox.outerjoin(events, e.id == o.event)
                .outerjoin(messages, m.id == e.message)
                .outerjoin(links, and_(k.message == e.message, k.idx == e.link))
            )
            .where(o.subscription == subscription, o.state == OutboxState.PENDING)
            .order_by(o.id)
            .limit(limit)
        )
        with self._db.connect() as connection:
            rows = [_due(row._mapping) for row in connection.execute(query)]
        ready = next((n for n, row in enumerate(rows) if row.due_at > now), len(rows))
        return rows[:ready]

    def delivered(self, row: int) -> None:
        """The receiver took it: the row goes."""
        with self._db.begin() as connection:
            connection.execute(delete(webhook_outbox).where(webhook_outbox.c.id == row))

    def retry(self, row: int, payload: str, due_at: float, error: str) -> None:
        self._settle(row, payload=payload, due_at=due_at, last_error=error)

    def give_up(self, row: int, payload: str, error: str) -> None:
        self._settle(row, state=OutboxState.FAILED, payload=payload, last_error=error)

    def give_up_older(self, subscription: str, created_before: float, error: str) -> int:
        """Mark failed the pending rows of ``subscription`` queued before
        ``created_before`` (past the retry horizon while the endpoint fails); how many."""
        o = webhook_outbox.c
        query = (
            update(webhook_outbox)
            .where(
                o.subscription == subscription,
                o.state == OutboxState.PENDING,
                o.created_at < created_before,
            )
            .values(state=OutboxState.FAILED, last_error=error)
        )
        with self._db.begin() as connection:
            return int(connection.execute(query).rowcount)

    def _settle(self, row: int, **values: Any) -> None:
        query = (
            update(webhook_outbox)
            .where(webhook_outbox.c.id == row)
            .values(attempts=webhook_outbox.c.attempts + 1, **values)
        )
        with self._db.begin() as connection:
            connection.execute(query)

    # -- the live feed ---------------------------------------------------------------------

    def signals_since(self, ts: float, limit: int) -> list[StoredEvent]:
        """Signals (human hits and every mail that came back) stored with ``ts`` at or
        after ``ts``, oldest first, at most ``limit``."""
        e, m, k = events.c, messages.c, links.c
        query = (
            select(*_EVENT_FIELDS)
            .select_from(
                events.outerjoin(messages, m.id == e.message).outerjoin(
                    links, and_(k.message == e.message, k.idx == e.link)
                )
            )
            # the index's own words, literally: a planner matches a partial index's WHERE
            # only to the same terms, not to bound parameters
            .where(e.ts >= ts, text(f"({SIGNALS_WHERE})"))
            .order_by(e.ts, e.id)
            .limit(limit)
        )
        with self._db.connect() as connection:
            return [_stored_event(row._mapping) for row in connection.execute(query)]


# -- the write paths: outbox rows in the events' own transaction ---------------------------

_SELECT_SUBSCRIPTIONS = "SELECT id, types FROM webhook_subscriptions"
_OUTBOX_COLUMNS = ("subscription", "event", "type", "created_at", "due_at", "attempts", "state")
_COPY_OUTBOX = f"COPY webhook_outbox ({', '.join(_OUTBOX_COLUMNS)}) FROM STDIN"
_SQLITE_ROWS = 32766 // len(_OUTBOX_COLUMNS) if sqlite3.sqlite_version_info >= (3, 32) else 100


def _insert_sql(values: str) -> str:
    return (
        f"INSERT INTO webhook_outbox ({', '.join(_OUTBOX_COLUMNS)}) VALUES {values} "
        "ON CONFLICT (subscription, event) DO NOTHING"
    )


@lru_cache(maxsize=64)
def _sqlite_insert_sql(rows: int) -> str:
    return _insert_sql(", ".join(["(" + ", ".join(["?"] * len(_OUTBOX_COLUMNS)) + ")"] * rows))


def enqueue_loaded(
    cursor: Any, batch: Sequence[Event], now: float, *, postgres: bool, fresh: bool = False
) -> None:
    """Queue ``batch`` for its subscribers on the journal loader's driver ``cursor``,
    inside its transaction (after the events are inserted, before the commit).

    ``fresh``: every event of the batch was new (PostgreSQL's ``COPY`` took them all), so
    none can have an outbox row yet and the rows go by ``COPY`` too; should one have
    (an event erased and loaded again), the unique key refuses the batch and the loader
    loads it again the slow way, which skips what exists."""
    cursor.execute(_SELECT_SUBSCRIPTIONS)
    wanted = cursor.fetchall()
    if not wanted or not batch:
        return
    rows = _matching(wanted, batch, now)
    if not rows:
        return
    if postgres and fresh:
        with cursor.copy(_COPY_OUTBOX) as copy:
            for row in rows:
                copy.write_row(row)
    elif postgres:
        cursor.executemany(_insert_sql("(" + ", ".join(["%s"] * len(_OUTBOX_COLUMNS)) + ")"), rows)
    else:  # many rows a statement: SQLite steps once per chunk, not once per row
        for start in range(0, len(rows), _SQLITE_ROWS):
            chunk = rows[start : start + _SQLITE_ROWS]
            cursor.execute(_sqlite_insert_sql(len(chunk)), [v for row in chunk for v in row])


def enqueue_inserted(connection: Connection, batch: Sequence[Event], now: float) -> None:
    """Queue ``batch`` for its subscribers on ``connection``, inside its transaction."""
    wanted = connection.execute(
        select(webhook_subscriptions.c.id, webhook_subscriptions.c.types)
    ).all()
    if not wanted or not batch:
        return
    rows = _matching([tuple(row) for row in wanted], batch, now)
    if rows:
        dicts = [dict(zip(_OUTBOX_COLUMNS, row, strict=True)) for row in rows]
        connection.execute(_insert_ignoring(connection.dialect.name), dicts)


def _matching(
    subscriptions: Sequence[Sequence[Any]], batch: Sequence[Event], now: float
) -> list[tuple[Any, ...]]:
    """Outbox rows (in the order of _OUTBOX_COLUMNS) for each event and each subscription
    that wants its type."""
    wants = [(ident, frozenset(str(types).split(","))) for ident, types in subscriptions]
    rows = []
    for event in batch:
        event_type = TYPE_OF_KIND.get(event.kind)
        if event_type is None:
            continue
        for ident, types in wants:
            if ALL_TYPES in types or event_type in types:
                rows.append((ident, event.id, event_type, now, now, 0, OutboxState.PENDING.value))
    return rows


def _outbox_row(
    subscription: str, event_id: str, event_type: str, now: float, payload: str | None
) -> dict[str, Any]:
    return {
        "subscription": subscription,
        "event": event_id,
        "type": event_type,
        "created_at": now,
        "due_at": now,
        "attempts": 0,
        "state": OutboxState.PENDING.value,
        "payload": payload,
    }


def _insert_ignoring(dialect: str) -> Any:
    """An insert into the outbox that skips what a subscription has queued already."""
    target = ["subscription", "event"]
    return dialect_insert(dialect, webhook_outbox).on_conflict_do_nothing(index_elements=target)


def _read_subscriptions(connection: Connection) -> list[Subscription]:
    return [_subscription(r._mapping) for r in connection.execute(select(webhook_subscriptions))]


_EVENT_FIELDS = (
    events.c.id.label("e_id"),
    events.c.message.label("e_message"),
    events.c.kind.label("e_kind"),
    events.c.ts.label("e_ts"),
    events.c.verdict.label("e_verdict"),
    events.c.agent.label("e_agent"),
    events.c.reasons.label("e_reasons"),
    events.c.link.label("e_link"),
    events.c.details.label("e_details"),
    links.c.url.label("l_url"),
    messages.c.message_id.label("m_message_id"),
    messages.c.ticket.label("m_ticket"),
    messages.c.recipient.label("m_recipient"),
)


def _subscription(row: Any) -> Subscription:
    types = tuple(t for t in str(row["types"]).split(",") if t)
    return Subscription(row["id"], row["url"], types, row["secret"], row["created_at"])


def _due(row: Any) -> Due:
    return Due(
        row=row["id"],
        subscription=row["subscription"],
        event_id=row["event"],
        type=row["type"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        due_at=row["due_at"],
        payload=row["payload"],
        event=None if row["e_id"] is None else _stored_event(row),
    )


def _stored_event(row: Any) -> StoredEvent:
    try:
        reasons, details = json.loads(row["e_reasons"]), json.loads(row["e_details"])
    except ValueError as exc:
        raise StoreError(f"event {row['e_id']} holds malformed JSON: {exc}") from exc
    return StoredEvent(
        id=row["e_id"],
        message=row["e_message"],
        kind=row["e_kind"],
        ts=row["e_ts"],
        verdict=row["e_verdict"],
        agent=row["e_agent"],
        reasons=reasons,
        link=row["e_link"],
        link_url=row["l_url"],
        details=details,
        message_id=row["m_message_id"],
        ticket=row["m_ticket"],
        recipient=row["m_recipient"] or None,
    )


__all__ = [
    "ALL_TYPES",
    "EVENT_TYPES",
    "SIGNALS_WHERE",
    "TYPE_OF_KIND",
    "Due",
    "OutboxState",
    "StoredEvent",
    "Subscription",
    "SubscriptionCounts",
    "Webhooks",
    "enqueue_inserted",
    "enqueue_loaded",
]
