"""The PostgreSQL plans of what a node reads most: a message's reading, the triage queue and
the report pages' queries, on the demo's data, for docs/operations.md.

A fresh database is made on the server (``--admin-url``, default the test server's),
filled by the demo's own generator (``inkling.demo.fill``: the real import, classifier and
playbook; ``--tickets`` makes a larger desk), then each reader runs once to warm up and
once with PostgreSQL's ``auto_explain`` on every connection of the store, its plans sent
back to the client as notices (``auto_explain.log_level = notice``): the plans of the
statements the code really runs, raw driver cursors and temporary tables included, with
their actual rows and times (``log_analyze``). The database is dropped at the end.

    .venv/bin/python bench/explain.py [--tickets 2000] [--admin-url URL]

Prints one JSON object per statement: the reader, the statement's first line, its time in
ms and its plan as text lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from inkling import root
from inkling.config import load_settings
from inkling.demo import TICKETS, fill, write_settings
from inkling.playbook.queue import build_queue
from inkling.reports import content_report, outcomes_report, period
from inkling.signals.reading import read_message
from inkling.store import Store

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
#: Session settings that make the server explain every statement back to the client.
EXPLAINING = (
    "LOAD 'auto_explain'",
    "SET auto_explain.log_min_duration = 0",
    "SET auto_explain.log_analyze = on",
    "SET auto_explain.log_timing = on",
    "SET auto_explain.log_nested_statements = on",
    "SET auto_explain.log_level = notice",
    "SET client_min_messages = notice",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=TICKETS, help="the desk's tickets")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="a database to create one from")
    args = parser.parse_args()
    with _database(args.admin_url) as url, tempfile.TemporaryDirectory() as d:
        store, settings, services = _filled(Path(d), url, args.tickets)
        plans: list[dict[str, Any]] = []
        reader = {"name": ""}
        _explain_every_connection(store, plans, reader)
        for name, read in _readers(store, settings).items():
            read()  # warm-up: caches and the planner's statistics
            reader["name"] = name
            store.database.engine.dispose()  # new connections: each one explains
            read()
            reader["name"] = ""
        for plan in plans:
            print(json.dumps(plan))
        services.store.close()


def _readers(store: Store, settings: Any) -> dict[str, Callable[[], object]]:
    teams = root.team_book(settings)
    help_center = settings.reports.help_center
    covered = period(None, None, now=time.time())
    busiest = _busiest_message(store)
    return {
        "reading": lambda: read_message(store, busiest),
        "queue": lambda: build_queue(store, teams),
        "content": lambda: content_report(store, covered, help_center=help_center),
        "outcomes": lambda: outcomes_report(store, teams, covered, help_center=help_center),
    }


def _busiest_message(store: Store) -> str:
    """The Inkling id of the message with the most events (the longest reading)."""
    with store.database.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT message FROM events GROUP BY message ORDER BY COUNT(*) DESC LIMIT 1"
        ).scalar_one()
    return str(found)


def _explain_every_connection(
    store: Store, plans: list[dict[str, Any]], reader: dict[str, str]
) -> None:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.autocommit = True
        for setting in EXPLAINING:
            dbapi_connection.execute(setting)
        dbapi_connection.autocommit = False

        def on_notice(notice: Any) -> None:
            if reader["name"] and str(notice.message_primary).startswith("duration:"):
                plans.append(_plan(reader["name"], str(notice.message_primary)))

        dbapi_connection.add_notice_handler(on_notice)

    event.listen(store.database.engine, "connect", on_connect)


def _plan(reader: str, text: str) -> dict[str, Any]:
    """``duration: 1.234 ms  plan:\\nQuery Text: ...\\n<plan>`` as a JSON object."""
    took = re.match(r"duration: ([\d.]+) ms", text)
    lines = text.split("\n")[1:]
    query = next((line for line in lines if line.startswith("Query Text:")), "")
    shown = [line for line in lines if not line.startswith("Query Text:")]
    return {
        "bench": "explain",
        "reader": reader,
        "ms": float(took.group(1)) if took else None,
        "query": query.removeprefix("Query Text:").strip()[:160],
        "plan": [line for line in shown if line.strip()],
    }


def _filled(data_dir: Path, url: str, tickets: int) -> tuple[Store, Any, Any]:
    os.environ["INKLING_CONFIG"] = str(write_settings(data_dir))
    os.environ["INKLING_DATA_DIR"] = str(data_dir)
    os.environ["INKLING_DATABASE_URL"] = url
    settings = load_settings()
    services = root.open_services(settings)
    print(f"explain: filling {tickets:,} tickets ...", file=sys.stderr)
    fill(
        services.store,
        root.importer(settings, services),
        root.team_book(settings),
        tickets=tickets,
        replies=tickets * 3,
    )
    with services.store.database.begin() as connection:  # committed: statistics stay
        connection.exec_driver_sql("ANALYZE")
    return services.store, settings, services


@contextmanager
def _database(admin_url: str) -> Iterator[str]:
    """A new database on the server of ``admin_url``, dropped at the end (the tests' own
    helper makes it)."""
    os.environ["INKLING_TEST_PG"] = admin_url
    sys.path.insert(0, str(Path(__file__).parents[1]))  # the checkout, for tests/
    from tests.conftest import fresh_pg_database

    with fresh_pg_database("inkling_explain") as url:
        yield url


if __name__ == "__main__":
    main()
