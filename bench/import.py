"""Events import benchmark: ``inkling events import`` of a realistic file, judged.

A file of JSON lines in the ``inkling`` format is made in memory: ``--messages`` sends, then
their events in a support team's mix (Apple's proxy fetching every image from its relay
ranges, Gmail's image proxy, people opening in Outlook or a browser, people clicking, link
scanners clicking seconds after delivery from Microsoft's ranges or with HEAD requests,
replies, auto-replies and bounces), shuffled as exports are. It is imported into a fresh
database by the real :class:`~inkling.providers.Importer` (reading, registering, attaching,
judging, storing): wall-clock time, best of ``--rounds``. The bar (issue 9): 20,000 events
a second, classified.

    .venv/bin/python bench/import.py [--messages 20000] [--rounds 3] [--postgres]

Prints JSON: per backend the events (lines that are not sends: they are registered, and
counted in ``lines`` only), the seconds, events_per_s, this process's CPU seconds (on a
shared machine the wall clock counts others' work too; PostgreSQL's own CPU is not in it),
and the verdicts given (so a run that judged nothing shows).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text

from inkling.classify import Classifier
from inkling.collector import tune_collector
from inkling.providers import Importer, read_file
from inkling.store import Store

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SENT_AT = 1_796_396_400  # 2026-12-04T15:00:00Z
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
APPLE_RELAY = "104.28.28.{}"  # Apple's iCloud Private Relay egress (the packaged ranges)
GOOGLE = "66.249.84.{}"
MICROSOFT = "40.94.1.{}"  # Microsoft's published ranges: Defender Safe Links
PEOPLE = "81.2.{}.{}"


def lines(messages: int, seed: int = 9) -> list[dict[str, Any]]:
    """Sends first, then every event of the mix, shuffled."""
    rng = random.Random(seed)
    sends, events = [], []
    for n in range(messages):
        message = f"<m{n}@help.example>"
        links = [f"https://help.example/articles/{n % 50}", "https://help.example/contact"]
        sends.append({"type": "sent", "message": message, "recipient": f"c{n}@customer.example",
                      "ts": SENT_AT + n, "ticket": str(4000 + n), "subject": "Your refund",
                      "workflow": "billing", "links": links})  # fmt: skip
        events += _events(rng, message, SENT_AT + n)
    rng.shuffle(events)
    return sends + events


def _events(rng: random.Random, message: str, sent: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def hit(kind: str, after: float, ip: str, ua: str | None, **more: Any) -> None:
        out.append({"type": kind, "message": message, "ts": sent + after, "ip": ip, "ua": ua,
                    **more})  # fmt: skip

    if rng.random() < 0.45:  # Apple Mail Privacy Protection: fetched at delivery
        hit("open", rng.uniform(5, 600), APPLE_RELAY.format(rng.randrange(60)), "Mozilla/5.0")
    if rng.random() < 0.2:
        hit("open", rng.uniform(60, 7200), GOOGLE.format(rng.randrange(200)), GMAIL_PROXY)
    if rng.random() < 0.15:  # a scanner following every link at delivery
        for link in (0, 1):
            hit("click", rng.uniform(1, 4), MICROSOFT.format(rng.randrange(200)), CHROME, link=link)
    person = PEOPLE.format(rng.randrange(256), rng.randrange(256))
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        hit("open", rng.uniform(600, 86400), person, rng.choice((OUTLOOK, CHROME)))
    if rng.random() < 0.3:
        hit("click", rng.uniform(900, 90000), person, CHROME, link=0)
    if rng.random() < 0.05:
        hit("click", rng.uniform(1, 3), PEOPLE.format(9, rng.randrange(256)), None, link=1,
            method="HEAD")  # fmt: skip
    roll = rng.random()
    if roll < 0.2:
        out.append({"type": "reply", "message": message, "ts": sent + rng.uniform(3600, 86400)})
    elif roll < 0.23:
        out.append(
            {"type": "autoreply", "message": message, "ts": sent + 30, "until": "2026-12-14"}
        )
    elif roll < 0.25:
        out.append({"type": "bounce", "message": message, "ts": sent + 20, "status": "5.1.1"})
    return out


@contextlib.contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (a SQLAlchemy URL), dropped afterwards."""
    import psycopg

    name = f"inkling_bench_{secrets.token_hex(4)}"
    parts = urlsplit(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(("postgresql+psycopg", parts.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_round(data: bytes, url: str, classifier: Classifier) -> dict[str, Any]:
    store = Store(url)
    store.database.ensure_schema()
    importer = Importer(store, classifier)
    started, cpu = time.perf_counter(), time.process_time()
    result = importer.run(read_file(data, "inkling"))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with store.database.engine.connect() as connection:
        verdicts = dict(
            Counter(
                {
                    f"{kind} {verdict}": n
                    for kind, verdict, n in connection.execute(
                        text("SELECT kind, verdict, count(*) FROM events GROUP BY kind, verdict")
                    )
                }
            )
        )
        events = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
    store.close()
    assert not result.bad, result.bad[:3]
    return {"events": events, "seconds": seconds, "cpu_seconds": cpu, "verdicts": verdicts}


def run(backend: str, data: bytes, rounds: int, admin_url: str) -> dict[str, Any]:
    classifier = Classifier()
    results = []
    for _ in range(rounds):
        if backend == "postgresql":
            with fresh_postgres(admin_url) as url:
                results.append(one_round(data, url, classifier))
        else:
            work = Path(tempfile.mkdtemp(prefix="inkling-import-"))
            try:
                results.append(one_round(data, f"sqlite:///{work / 'inkling.db'}", classifier))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    best = min(results, key=lambda r: r["seconds"])
    return {
        "events": best["events"],
        "seconds": round(best["seconds"], 3),
        "events_per_s": round(best["events"] / best["seconds"]),
        # this process's CPU only: on a busy machine, what the import itself costs
        "cpu_seconds": round(best["cpu_seconds"], 3),
        "events_per_cpu_s": round(best["events"] / best["cpu_seconds"]),
        "rounds_s": [round(r["seconds"], 3) for r in results],
        "verdicts": best["verdicts"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    args = parser.parse_args()
    tune_collector()  # as inkling events import and inkling serve do
    made = lines(args.messages)
    data = "\n".join(json.dumps(line) for line in made).encode()
    report: dict[str, Any] = {"messages": args.messages, "lines": len(made)}
    for backend in ("sqlite", "postgresql") if args.postgres else ("sqlite",):
        report[backend] = run(backend, data, args.rounds, args.pg_admin_url)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
