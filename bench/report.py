"""Report benchmark: ``inkling report``'s computation over 1,000,000 events.

A fresh SQLite database gets a support desk's history as the default retention keeps it
(``--days 180``): 50,000 tickets in three teams on their own clocks (Berlin with German
holidays, New York, Tokyo), 90 % of them solved, about three messages each (150,000), most
with a link or two (help articles, a PDF, the shop), and 1,000,000 events spread as
support mail sees them: Apple's proxy fetching most pixels, scanners clicking links at
delivery, fewer people's opens and clicks, replies, and requesters back with a new
ticket. Then ``build_report`` (what ``inkling report`` and ``GET /api/v1/reports`` run)
is timed in process, wall clock, best and median of ``--rounds`` after one warm-up run:
over the default period (the last 30 days; bar: under 1 s), and over the whole history
(every ticket and event at once: the worst case a report can ask for).

    .venv/bin/python bench/report.py [--tickets 50000] [--events 1000000] [--days 180]
                                     [--rounds 5] [--keep PATH] [--postgres]

Prints one JSON object per backend and period, with the time of the store's queries and
of the definitions (Python) apart.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from inkling.collector import tune_collector
from inkling.model import (
    Agent,
    Event,
    EventId,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Priority,
    Status,
    Ticket,
    Verdict,
)
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.teams import Team, TeamBook
from inkling.reports import Period, build_report
from inkling.store import Store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BAR_SECONDS = 1.0
DAY = 86_400.0
HELP = "https://help.example.com/articles/"
LINKS = (
    [f"{HELP}article-{n}" for n in range(60)]
    + [f"https://files.example.com/guides/guide-{n}.pdf" for n in range(10)]
    + [f"https://shop.example.com/orders/{n}" for n in range(30)]
)
SUBJECTS = [f"Template {n}: your question" for n in range(40)]
TEAMS = {
    "billing": BusinessCalendar("Europe/Berlin", holidays="DE"),
    "support": BusinessCalendar("America/New_York", holidays="US-NY"),
    "tech": BusinessCalendar("Asia/Tokyo", hours="10:00-18:00"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180, help="the history's span")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="SQLite file to fill once and reuse")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    tune_collector()  # as inkling report does
    if args.keep is not None:
        run(f"sqlite:///{args.keep}", "sqlite", args)
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'report.db'}", "sqlite", args)
    if args.postgres:
        with _postgres() as url:
            run(url, "postgresql", args)


def run(url: str, backend: str, args: argparse.Namespace) -> None:
    """Fill the database (unless kept filled), then time both periods."""
    store = Store(url)
    store.database.ensure_schema()
    filled = 0.0
    if store.events.count() == 0:
        started = time.perf_counter()
        fill(store, args, time.time(), random.Random(20261203))
        filled = time.perf_counter() - started
        if backend == "postgresql":
            _analyze(url)
    last = _latest(store)
    for name, days in (("last 30 days", 30), ("whole history", args.days + 10)):
        shown = timed(store, Period(last - days * DAY, last + 1), args.rounds)
        print(
            json.dumps(
                {"backend": backend, "period": name, "fill_seconds": round(filled, 1), **shown}
            ),
            flush=True,
        )
    store.close()


def timed(store: Store, month: Period, rounds: int) -> dict[str, Any]:
    teams = TeamBook({name: Team(name, calendar) for name, calendar in TEAMS.items()})

    def report() -> dict[str, Any]:
        return build_report(store, teams, month, help_center=[HELP]).as_json()

    shown = report()  # warm-up: caches, the clocks' years
    times, queries = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        store.reports.rows(month.since, month.until)
        t1 = time.perf_counter()
        shown = report()
        t2 = time.perf_counter()
        queries.append(t1 - t0)
        times.append(t2 - t1)
    best = min(times)
    return {
        "bench": "report",
        "events": store.events.count(),
        "report_seconds_best": round(best, 3),
        "report_seconds_median": round(statistics.median(times), 3),
        "queries_seconds_median": round(statistics.median(queries), 3),
        "rounds": rounds,
        "tickets_solved": shown["tickets_solved"],
        "fcr": shown["fcr"],
        "ttr_business_hours": shown["ttr_business_hours"],
        "self_service_completion": shown["self_service_completion"],
        "links": len(shown["content"]),
        "flagged": sum(bool(link["flags"]) for link in shown["content"]),
        "bar_seconds": BAR_SECONDS,
        "meets_bar": best < BAR_SECONDS,
    }


def _latest(store: Store) -> float:
    """When the filled history ends (a kept database was filled some time ago)."""
    with store.database.connect() as connection:
        found = connection.exec_driver_sql("SELECT MAX(created_at) FROM tickets").scalar()
    return float(found or time.time()) + DAY


def fill(store: Store, args: argparse.Namespace, now: float, rng: random.Random) -> None:
    """Tickets over ``args.days``, about three messages each, and ``args.events`` events."""
    tickets, total_events = args.tickets, args.events
    start = now - args.days * DAY
    requesters = [f"customer{n}@example.com" for n in range(tickets * 2 // 5)]
    batch, copies = [], []
    for n in range(tickets):
        created = rng.uniform(start, now - DAY)
        solved = created + rng.uniform(0.05, 6) * DAY if rng.random() < 0.9 else None
        batch.append(
            Ticket(
                f"T{n:06d}",
                Priority.NORMAL,
                Status.SOLVED if solved is not None and solved < now else Status.OPEN,
                created,
                solved if solved is not None and solved < now else created,
                team=rng.choice([*TEAMS, None]),
                requester=rng.choice(requesters),
                solved_at=solved if solved is not None and solved < now else None,
            )
        )
        for m in range(rng.choice((1, 2, 3, 3, 4, 5))):
            copies.append(_copy(f"T{n:06d}", m, created + (m + 0.1) * DAY / 3, rng))
    store.tickets.upsert_all(batch)
    for chunk in _chunks(copies, 5000):
        store.messages.register_all(chunk)
    loader = store.events.loader()
    for chunk in _chunks(list(_events(copies, total_events, now, rng)), 20_000):
        loader.load(chunk, (), ())
    loader.close()


def _copy(ticket: str, n: int, sent: float, rng: random.Random) -> tuple[MessageRecord, list[str]]:
    ident = uuid.UUID(int=rng.getrandbits(128)).hex[:20]
    links = rng.sample(LINKS, rng.choice((0, 1, 1, 2)))
    record = MessageRecord(
        InklingId(ident),
        MessageIdHeader(f"<{ticket}-{n}@help.example>"),
        "support",
        ticket,
        f"{rng.choice(SUBJECTS)} [#{ticket}]",
        int(sent),
        len(links),
        recipient=f"{ticket.lower()}@customer.example",
    )
    return record, links


#: (kind, verdict, agent, share of events, seconds after sending it comes at most)
_MIX = [
    (EventKind.OPEN, Verdict.MACHINE, Agent.APPLE_MPP, 0.40, 120),
    (EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT, 0.22, 3 * DAY),
    (EventKind.OPEN, Verdict.HUMAN, Agent.GMAIL_PROXY, 0.08, 3 * DAY),
    (EventKind.OPEN, Verdict.UNKNOWN, None, 0.06, 3 * DAY),
    (EventKind.CLICK, Verdict.MACHINE, Agent.SAFELINKS, 0.10, 5),
    (EventKind.CLICK, Verdict.HUMAN, Agent.BROWSER, 0.10, 3 * DAY),
    (EventKind.REPLY, Verdict.HUMAN, Agent.REPLY, 0.04, 5 * DAY),
]


def _events(
    copies: list[tuple[MessageRecord, list[str]]], total: int, now: float, rng: random.Random
) -> Iterator[Event]:
    kinds = [(*m[:3], m[4]) for m in _MIX]
    weights = [m[3] for m in _MIX]
    for n in range(total):
        record, links = copies[rng.randrange(len(copies))]
        kind, verdict, agent, within = rng.choices(kinds, weights)[0]
        if kind is EventKind.CLICK and not links:
            kind, verdict, agent = EventKind.OPEN, Verdict.MACHINE, Agent.APPLE_MPP
        ts = min(record.sent_at + rng.uniform(1, within), now - 1)
        yield Event(
            id=EventId(f"{n:024x}"),
            message=record.id,
            kind=kind,
            ts=ts,
            method="GET" if kind is not EventKind.REPLY else "SMTP",
            sent_at=record.sent_at,
            link=rng.randrange(len(links)) if kind is EventKind.CLICK else None,
            verdict=verdict,
            agent=agent,
        )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _analyze(url: str) -> None:
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("ANALYZE")


@contextmanager
def _postgres() -> Iterator[str]:
    name = f"inkling_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
