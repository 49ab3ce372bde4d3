"""Dashboard benchmark: every page's answer time, at the demo's size and at 100,000 tickets.

The data is the demo's (``inkling.demo.fill``, what ``inkling demo --no-serve`` runs: the
real import, classifier and playbook, on SQLite in a data dir of its own, with the demo's
``inkling.toml``): the demo itself (2,000 tickets, 6,000 replies over 30 days), and the same
desk drawn larger (``--tickets 100000`` over ``--days 180``, three replies a ticket as in
the demo: about a million events). Each data dir is kept under ``--cache`` and used again
while younger than ``--max-age`` hours (its queue and its report periods are relative to
now, so an old one would flatter them); the lead gets a new password each run, as
``inkling demo`` gives on its own data dir.

The lead signs in through the real form (GET /login for the CSRF token, POST /login), then
every page of the dashboard's NAV (``inkling.web.app.NAV``), a ticket with the longest
timeline (most events), a typical ticket (the median number of events) and /how-to-read
are fetched: one warm-up request each, then ``--repeat`` timed ones, wall clock, one at a
time. By default in process, over ASGI (``httpx.ASGITransport``) to the dashboard the
composition root builds (``root.dashboard``, what ``inkling serve`` mounts at ``/``);
with ``--serve``, over HTTP on loopback to a real ``inkling serve`` process. In process,
the garbage collector is set as ``inkling serve`` sets it once started
(``inkling.collector``): with the interpreter's default, collections walking the large
report's rows took 300 ms of the Outcomes page at 100,000 tickets.

    .venv/bin/python bench/dashboard.py [--size demo|100k|both] [--repeat 10]
                                        [--cache DIR] [--serve] [--days 180]

Prints one JSON object per page (median, min and max in ms; ``first_ms``, the warm-up
request, which also draws the page's chart, kept after it while the figures stay the same;
status, bytes, the verdict against the bar: 300 ms at the demo's size, 1 s at 100,000
tickets, on the median) and one per size. ``INKLING_*`` variables of the calling shell
are ignored: SQLite, the demo's settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from inkling import root
from inkling.collector import tune_collector
from inkling.config import load_settings
from inkling.demo import (
    LEAD,
    REPLIES,
    TICKETS,
    Freshness,
    fill,
    freshness,
    renew_password,
    write_settings,
)
from inkling.root import Services
from inkling.web.app import NAV

INKLING = Path(sys.executable).parent / "inkling"
BARS_MS = {"demo": 300.0, "100k": 1000.0}
#: Refill a cached data dir older than this (hours): the demo's month ends at its "now".
MAX_AGE_HOURS = 24.0
MARKER = "filled.json"


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    tickets: int
    days: int

    @property
    def folder(self) -> str:
        return "demo" if self.name == "demo" else f"{self.tickets}-tickets-{self.days}-days"


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    path: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("demo", "100k", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per page")
    parser.add_argument("--cache", type=Path, help="where the data dirs are kept (default: temp)")
    parser.add_argument("--max-age", type=float, default=MAX_AGE_HOURS, help="hours")
    parser.add_argument("--serve", action="store_true", help="against `inkling serve`")
    parser.add_argument("--tickets", type=int, default=100_000, help="the large size's tickets")
    parser.add_argument("--days", type=int, default=180, help="the large size's history")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith("INKLING_")]:
        del os.environ[name]  # the demo's own settings, on SQLite
    sizes = {"demo": Size("demo", TICKETS, 30), "100k": Size("100k", args.tickets, args.days)}
    chosen = ["demo", "100k"] if args.size == "both" else [args.size]
    with _cache(args.cache) as cache:
        for name in chosen:
            run(sizes[name], cache / sizes[name].folder, args)


@contextmanager
def _cache(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="inkling-dashboard-") as folder:
        yield Path(folder)


def run(size: Size, data_dir: Path, args: argparse.Namespace) -> None:
    """Fill (or reuse) the data dir, sign in, and time every page."""
    filled = _prepare(size, data_dir, args.max_age)
    services, settings = _open(data_dir)
    password = renew_password(services.store)
    pages = _pages(services)
    counts = _counts(services)
    bar = BARS_MS[size.name]
    if args.serve:
        services.store.close()
        results = asyncio.run(_over_http(data_dir, password, pages, args.repeat))
        via = "inkling serve (HTTP on loopback)"
    else:
        app = root.dashboard(settings, services, root.access(settings, services))
        tune_collector()  # what inkling serve does once started (inkling/server.py)
        # a page that fails is measured as the 500 a browser gets
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000)
        )
        base = "http://127.0.0.1:8080"
        results = asyncio.run(_timed(transport, base, password, pages, args.repeat))
        via = "in process, ASGI (root.dashboard)"
        services.store.close()
    for result in results:
        result.update(size=size.name, bar_ms=bar, meets_bar=result["median_ms"] < bar)
        print(json.dumps(result), flush=True)
    print(
        json.dumps(
            {
                "bench": "dashboard",
                "size": size.name,
                "via": via,
                **counts,
                "fill_seconds": filled["seconds"],
                "data_age_hours": round((time.time() - filled["at"]) / 3600, 2),
                "repeat": args.repeat,
                "bar_ms": bar,
                "slowest_page": max(results, key=_median)["page"],
                "slowest_median_ms": max(_median(r) for r in results),
                "meets_bar": all(r["meets_bar"] and r["status"] == 200 for r in results),
            }
        ),
        flush=True,
    )


def _median(result: dict[str, Any]) -> float:
    return float(result["median_ms"])


def _prepare(size: Size, data_dir: Path, max_age_hours: float) -> dict[str, Any]:
    """The data dir filled by the demo, reused if it was filled completely and recently."""
    marker = data_dir / MARKER
    if marker.is_file():
        known: dict[str, Any] = json.loads(marker.read_text())
        if time.time() - known["at"] < max_age_hours * 3600:
            return known
        shutil.rmtree(data_dir)  # this bench's, and too old
    elif data_dir.exists():  # a fill that did not finish, or someone else's folder
        raise SystemExit(f"{data_dir} was not filled by this bench (no {MARKER}): remove it")
    data_dir.mkdir(parents=True)
    services, settings = _open(data_dir)
    if freshness(services.store) is not Freshness.EMPTY:
        raise SystemExit(f"{data_dir} is not empty")
    print(f"dashboard: filling {data_dir} ({size.tickets:,} tickets) ...", file=sys.stderr)
    started = time.perf_counter()
    fill(
        services.store,
        root.importer(settings, services),
        root.team_book(settings),
        progress=_progress(),
        tickets=size.tickets,
        replies=size.tickets * REPLIES // TICKETS,
        days=size.days,
    )
    seconds = round(time.perf_counter() - started, 1)
    services.store.close()
    known = {"at": time.time(), "seconds": seconds, "tickets": size.tickets, "days": size.days}
    marker.write_text(json.dumps(known))
    return known


def _open(data_dir: Path) -> tuple[Services, Any]:
    """The services on ``data_dir`` with the demo's settings, as ``inkling demo`` opens them."""
    config = write_settings(data_dir)
    os.environ["INKLING_CONFIG"] = str(config)
    settings = load_settings()
    return root.open_services(settings), settings


def _progress() -> Any:
    shown = [-1]

    def tell(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != shown[0]:
            shown[0] = tenth
            print(f"  {done:,} of {total:,}", file=sys.stderr, flush=True)

    return tell


def _pages(services: Services) -> list[Page]:
    """The NAV's pages, two tickets (the longest timeline, a typical one), how-to-read."""
    query = (
        "SELECT m.ticket, COUNT(e.id) AS n FROM messages m JOIN events e ON e.message = m.id "
        "WHERE m.ticket IS NOT NULL GROUP BY m.ticket ORDER BY n"
    )
    with services.store.database.connect() as connection:
        counted = [(str(t), int(n)) for t, n in connection.exec_driver_sql(query)]
    longest, typical = counted[-1], counted[len(counted) // 2]
    return [
        *(Page(item.label, item.href) for item in NAV),
        Page(f"ticket, longest timeline ({longest[1]} events)", _ticket(longest[0])),
        Page(f"ticket, typical ({typical[1]} events)", _ticket(typical[0])),
        Page("How to read", "/how-to-read"),
    ]


def _ticket(ident: str) -> str:
    return f"/tickets/{quote(ident, safe='')}"


def _counts(services: Services) -> dict[str, int]:
    with services.store.database.connect() as connection:

        def one(sql: str) -> int:
            return int(connection.exec_driver_sql(sql).scalar() or 0)

        return {
            "tickets": one("SELECT COUNT(*) FROM tickets"),
            "open_tickets": one(
                "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('solved', 'closed')"
            ),
            "messages": one("SELECT COUNT(*) FROM messages"),
            "events": one("SELECT COUNT(*) FROM events"),
        }


async def _timed(
    transport: httpx.AsyncBaseTransport,
    base_url: str,
    password: str,
    pages: list[Page],
    repeat: int,
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=120) as client:
        await _sign_in(client, password)
        return [await _one(client, page, repeat) for page in pages]


async def _sign_in(client: httpx.AsyncClient, password: str) -> None:
    """The real sign-in form: its CSRF token, then the post; a session cookie after."""
    form = await client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if found is None:
        raise SystemExit(f"no CSRF token on /login ({form.status_code})")
    data = {"email": LEAD, "password": password, "csrf_token": found.group(1)}
    signed = await client.post("/login", data=data)
    if signed.status_code != 303 or signed.headers.get("location") != "/":
        raise SystemExit(f"sign-in failed: {signed.status_code} {signed.text[:200]}")


async def _one(client: httpx.AsyncClient, page: Page, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    response = await client.get(page.path)  # warm-up: drawn charts are kept after it
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = await client.get(page.path)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "bench": "dashboard",
        "page": page.name,
        "path": page.path,
        "status": response.status_code,
        "bytes": len(response.content),
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "first_ms": round(first, 1),
    }


async def _over_http(
    data_dir: Path, password: str, pages: list[Page], repeat: int
) -> list[dict[str, Any]]:
    async with _server(data_dir) as url:
        return await _timed(httpx.AsyncHTTPTransport(), url, password, pages, repeat)


@asynccontextmanager
async def _server(data_dir: Path) -> AsyncIterator[str]:
    """``inkling serve`` on a free loopback port, with the demo's settings."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INKLING_CONFIG": str(data_dir / "inkling.toml")}
    log = (data_dir / "serve.log").open("ab")
    command = [str(INKLING), "serve", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        await _ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(20)
        log.close()


async def _ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit("inkling serve exited (see serve.log in the data dir)")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("inkling serve did not come up in 30 s")


if __name__ == "__main__":
    main()
