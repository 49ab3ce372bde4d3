"""Queue benchmark: the triage queue of 10,000 open tickets over 1,000,000 events.

A fresh database gets a support team's month: open tickets (and some solved ones), two
messages each (an older one and the latest, by Message-ID and ticket), and events spread
the way support mail sees them: most of them machine fetches (Apple's proxy, scanners),
fewer people's opens and clicks, some replies, bounces and out-of-office replies. Then
``build_queue`` (what ``inkling queue`` and ``GET /api/v1/queue`` run) is timed, wall
clock, best and median of ``--rounds``, after one warm-up run. Bar: under 200 ms.

    .venv/bin/python bench/triage_queue.py [--tickets 10000] [--events 1000000] [--postgres]

Prints one JSON object per backend. (Not ``bench/queue.py``: run as a script, a file of
that name would hide the standard library's ``queue`` from every module of the run.)
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on the path, and this file's name
# would hide the standard library's ``queue`` (which psycopg imports).
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg

from inkling.collector import tune_collector
from inkling.model import (
    Agent,
    Event,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Priority,
    Status,
    Ticket,
    Verdict,
    new_event_id,
)
from inkling.playbook.queue import build_queue
from inkling.playbook.teams import TeamBook
from inkling.store import Store
from inkling.tokens import new_message_id

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BAR_MS = 200
DAY = 86400.0
#: What came back on a ticket's latest message, and how often (a support team's mix).
STORIES = {
    "machine_only": 0.30,
    "opened": 0.22,
    "clicked": 0.15,
    "replied": 0.12,
    "nothing": 0.10,
    "bounced": 0.05,
    "away": 0.06,
}
PRIORITIES = {Priority.LOW: 0.15, Priority.NORMAL: 0.55, Priority.HIGH: 0.2, Priority.URGENT: 0.1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--only-postgres", action="store_true")
    args = parser.parse_args()
    tune_collector()  # as inkling queue and inkling serve do
    backends = ["postgresql"] if args.only_postgres else ["sqlite"]
    if args.postgres and not args.only_postgres:
        backends.append("postgresql")
    for backend in backends:
        with _Database(backend) as url:
            print(json.dumps(run(url, backend, args)), flush=True)


def run(url: str, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    store = Store(url)
    store.database.ensure_schema()
    now = time.time()
    started = time.perf_counter()
    events = fill(store, args.tickets, args.events, now, random.Random(20261202))
    filled = time.perf_counter() - started
    if backend == "postgresql":
        _analyze(url)
    teams = TeamBook()
    build_queue(store, teams, at=now)  # warm-up: caches, the planner's statistics
    times, items = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        items = build_queue(store, teams, at=now)
        times.append((time.perf_counter() - t0) * 1000)
    store.close()
    best = min(times)
    return {
        "bench": "queue",
        "backend": backend,
        "open_tickets": args.tickets,
        "events": events,
        "fill_seconds": round(filled, 1),
        "queue_ms_best": round(best, 1),
        "queue_ms_median": round(statistics.median(times), 1),
        "rounds": args.rounds,
        "items": len(items),
        "actions": dict(Counter(i.recommendation.action.value for i in items).most_common()),
        "bar_ms": BAR_MS,
        "meets_bar": best < BAR_MS,
    }


def _analyze(url: str) -> None:
    """PostgreSQL's statistics of the filled tables, as autovacuum gathers them on a live
    database after a bulk change; without them it plans the fresh tables as empty."""
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("ANALYZE")


def fill(store: Store, tickets: int, total_events: int, now: float, rng: random.Random) -> int:
    """Tickets, their messages and events; returns the number of events stored."""
    solved = tickets // 5
    batch: list[Ticket] = []
    copies: list[tuple[MessageRecord, list[str]]] = []
    latest: list[tuple[MessageRecord, str, Priority]] = []
    older: list[MessageRecord] = []
    for n in range(tickets + solved):
        ident = f"T{n:06d}"
        created = now - rng.uniform(1, 25) * DAY
        priority = _pick(rng, PRIORITIES)
        status = Status.SOLVED if n >= tickets else rng.choice([Status.OPEN, Status.PENDING])
        batch.append(Ticket(ident, priority, status, created, created + 60, team="default"))
        first = _message(ident, created + 600, "a")
        last = _message(ident, min(now - 3600, created + rng.uniform(1, 5) * DAY), "b")
        copies += [(first, ["https://help.example/articles/1"]), (last, [])]
        older.append(first)
        latest.append((last, _pick(rng, STORIES), priority))
    store.tickets.upsert_all(batch)
    for chunk in _chunks(copies, 5000):
        store.messages.register_all(chunk)
    loader = store.events.loader()
    stored = 0
    for chunk in _chunks(list(_events(latest, older, total_events, now, rng)), 20000):
        loader.load(chunk, (), ())
        stored += len(chunk)
    loader.close()
    return stored


def _message(ticket: str, sent: float, which: str) -> MessageRecord:
    return MessageRecord(
        new_message_id(),
        MessageIdHeader(f"<{ticket}-{which}@help.example>"),
        "support",
        ticket,
        "Your question",
        int(sent),
        1,
        recipient=f"{ticket.lower()}@customer.example",
    )


def _events(
    latest: list[tuple[MessageRecord, str, Priority]],
    older: list[MessageRecord],
    total: int,
    now: float,
    rng: random.Random,
) -> Iterator[Event]:
    made = 0
    for message, story, _ in latest:
        for event in _story_events(message, story, now, rng):
            made += 1
            yield event
    # the rest: machine fetches and people's opens on every message, as over a month
    everything = [m for m, _, _ in latest] + older
    earlier = {m.id for m in older}
    while made < total:
        message = rng.choice(everything)
        when = rng.uniform(message.sent_at, now)
        person = rng.random() < 0.1 and message.id in earlier
        yield _hit(message, EventKind.OPEN, when, person)
        made += 1


def _story_events(
    message: MessageRecord, story: str, now: float, rng: random.Random
) -> list[Event]:
    sent = float(message.sent_at)
    span = max(now - sent, 60)
    made = [_hit(message, EventKind.OPEN, sent + 30, False)]  # Apple's proxy at delivery
    if story == "opened":
        made += [
            _hit(message, EventKind.OPEN, sent + rng.uniform(0, span), True)
            for _ in range(rng.randint(1, 4))
        ]
    elif story == "clicked":
        made += [
            _hit(message, EventKind.OPEN, sent + 600, True),
            _hit(message, EventKind.CLICK, sent + rng.uniform(0, span), True),
        ]
    elif story == "replied":
        made.append(_mail(message, EventKind.REPLY, sent + rng.uniform(0, span), Verdict.HUMAN, {}))
    elif story == "bounced":
        details = {
            "final": "true",
            "class": "hard",
            "reason": "userunknown",
            "owner": "agent",
            "status": "5.1.1",
        }
        made = [_mail(message, EventKind.BOUNCE, sent + 5, Verdict.MACHINE, details)]
    elif story == "away":
        until = time.strftime("%Y-%m-%d", time.gmtime(now + rng.uniform(-5, 10) * DAY))
        made.append(
            _mail(message, EventKind.AUTOREPLY, sent + 20, Verdict.MACHINE, {"until": until})
        )
    elif story == "nothing":
        made = []
    return made


def _hit(message: MessageRecord, kind: EventKind, ts: float, person: bool) -> Event:
    event = Event(new_event_id(), InklingId(message.id), kind, ts, sent_at=message.sent_at)
    if person:
        event.verdict = Verdict.HUMAN
        event.agent = Agent.MAIL_CLIENT if kind is EventKind.OPEN else Agent.BROWSER
        event.ip, event.network = "203.0.113.0", ""
    else:
        event.verdict, event.agent = Verdict.MACHINE, Agent.APPLE_MPP
        event.ip, event.network = "17.58.0.0", "apple_mpp"
    event.user_agent = "Mozilla/5.0"
    event.reasons = ["from Apple's Mail Privacy Protection relay"] if not person else []
    return event


def _mail(
    message: MessageRecord, kind: EventKind, ts: float, verdict: Verdict, details: dict[str, str]
) -> Event:
    event = Event(new_event_id(), InklingId(message.id), kind, ts, method="SMTP", details=details)
    event.verdict = verdict
    return event


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Database:
    """A fresh database on ``backend``, dropped afterwards."""

    def __init__(self, backend: str) -> None:
        self._backend = backend
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._name = f"inkling_bench_{uuid.uuid4().hex[:10]}"

    def __enter__(self) -> str:
        if self._backend == "sqlite":
            self._tmp = tempfile.TemporaryDirectory(prefix="inkling-queue-")
            return f"sqlite:///{Path(self._tmp.name) / 'inkling.db'}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self._name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self._name}"

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            return
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
