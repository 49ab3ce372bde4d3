"""Webhooks benchmark: does a subscribed receiver that is down slow the tracker?

Method
------
1. A temp dir gets a fresh token key, copied into two Inkling data dirs, and the traffic of
   ``bench/traffic.py`` is minted with it (``realistic``: 2,000 messages, 80% opens and 20%
   clicks with a browser's or Outlook's headers).
2. ``none``: ``inkling serve`` with no subscription. ``down``: the same, with a
   subscription to every event type (``*``) at a loopback port that refuses connections
   (bound and never listened on, held for the whole run) — or, with ``--receiver
   hanging``, one that listens and never answers (connections queue in its backlog, each
   delivery ends at the sender's timeout). Every hit the loader stores then also writes an
   outbox row, and the dispatcher keeps failing on its own threads. Both run as
   ``bench/tracker.py`` runs them (``bench/servers.py``: uvicorn, one process, SQLite or
   ``--postgres``), pinned to CPU 0 with wrk on CPU 1 when there are two cores.
3. ``wrk -t1 -c64 --latency`` with the traffic's Lua script warms each up, then
   ``--rounds`` rounds of ``--duration`` seconds alternate between them (the order flips
   each round). The defaults (2 rounds of 30 s) keep the receiver down for a full minute
   of load.
4. Before stopping, each server's journal is loaded (``/readyz``); then the store is read:
   the events, and for ``down`` the outbox rows pending and failed (every stored event
   should be pending: nothing lost, nothing given up within the horizon).

5. ``store_step``: apart from the servers, the loader's store step
   (``EventLoader.load``, batches of 1,024 hits, no judge) timed on the process's CPU
   clock with no subscription and with one to every type (each hit then also writes an
   outbox row): best of 3 rounds on fresh databases, microseconds per hit, and the ratio.
   ``--store-only`` measures only this.

One JSON object goes to stdout (progress to stderr): each side's median p99 and req/s over
its rounds, every round, and ``p99_ratio`` (down / none; 1.0 means no effect) and
``rps_ratio``. ``no_loss`` is true when the outbox holds one pending row per stored hit.

    .venv/bin/python bench/webhooks.py [--duration 30] [--rounds 2] [--postgres]
        [--receiver dead|hanging] [--store-only] [--hits 40000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from servers import BIN, HOST, Target, free_port, inkling_argv, progress
from tracker import fresh_postgres
from traffic import realistic
from wrk import WrkResult, parse_wrk, wrk_argv

CONNECTIONS = 64
WARMUP_SECONDS = 5.0


@contextlib.contextmanager
def down_receiver(kind: str) -> Iterator[str]:
    """A loopback URL nothing will answer: a port bound and never listened on (``dead``:
    connections refused), or listened on and never accepted (``hanging``)."""
    sock = socket.socket()
    try:
        sock.bind((HOST, 0))
        if kind == "hanging":
            sock.listen(1024)
        yield f"http://{HOST}:{sock.getsockname()[1]}/hook"
    finally:
        sock.close()


def _env(data_dir: Path, config: Path, url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INKLING_")}
    env |= {"INKLING_DATA_DIR": str(data_dir), "INKLING_CONFIG": str(config)}
    if url:
        env["INKLING_DATABASE_URL"] = url
    return env


def make_target(tmp: Path, key_file: Path, name: str, url: str | None) -> Target:
    data_dir = tmp / f"data-{name}"
    data_dir.mkdir()
    shutil.copy2(key_file, data_dir / key_file.name)
    config = tmp / "inkling.toml"
    config.write_text("# empty: the benchmark's servers run on the defaults and INKLING_*\n")
    port = free_port()
    db_url = url or f"sqlite:///{(data_dir / 'inkling.db').resolve()}"
    env = _env(data_dir, config, url)
    argv = inkling_argv("uvicorn", port)
    return Target("inkling", "uvicorn", port, argv, env, tmp / f"{name}.log", database_url=db_url)


def subscribe(target: Target, receiver_url: str) -> str:
    done = subprocess.run(
        [str(BIN / "inkling"), "webhooks", "add", receiver_url, "--events", "*"],
        env=target.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()[0].split(": ", 1)[1]


def run_wrk(target: Target, script: Path, seconds: float, pin: str | None) -> WrkResult:
    argv = wrk_argv(
        f"http://{HOST}:{target.port}/",
        threads=1,
        connections=CONNECTIONS,
        seconds=seconds,
        script=script,
    )
    if pin is not None:
        argv = ["taskset", "-c", pin, *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def outbox(url: str) -> dict[str, int]:
    from inkling.store import Store
    from inkling.store.webhooks import Webhooks

    store = Store(url)
    try:
        counts = Webhooks(store.database).counts()
        return {
            "events": store.events.count(),
            "outbox_pending": sum(c.pending for c in counts),
            "outbox_failed": sum(c.failed for c in counts),
        }
    finally:
        store.close()


def summary(runs: list[WrkResult]) -> dict[str, Any]:
    return {
        "p99_ms": round(statistics.median(r.p99_ms for r in runs), 3),
        "rps": round(statistics.median(r.rps for r in runs), 1),
        "runs": [r.summary() for r in runs],
        "socket_errors": sum(r.socket_errors for r in runs),
        "non_2xx": sum(r.non_2xx for r in runs),
    }


def measure(args: argparse.Namespace, tmp: Path, urls: list[str | None]) -> dict[str, Any]:
    from inkling.tokens import KEY_FILE, TokenCodec

    key_dir = tmp / "key"
    key_dir.mkdir()
    traffic = realistic(TokenCodec.for_data_dir(key_dir))
    script = tmp / "traffic.lua"
    traffic.write_lua(script)
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None and not args.no_pin
    server_cpu, wrk_cpu = ("0", "1") if pin else (None, None)
    none = make_target(tmp, key_dir / KEY_FILE, "none", urls[0])
    down = make_target(tmp, key_dir / KEY_FILE, "down", urls[1])
    runs: dict[str, list[WrkResult]] = {"none": [], "down": []}
    with down_receiver(args.receiver) as receiver_url:
        subscription = subscribe(down, receiver_url)
        try:
            for target in (none, down):
                target.start(server_cpu)
                target.wait_ready()
                progress(f"{target.name} ({'down' if target is down else 'none'}) warming up")
                run_wrk(target, script, WARMUP_SECONDS, wrk_cpu)
            for round_ in range(args.rounds):
                order = [("none", none), ("down", down)]
                for name, target in order if round_ % 2 == 0 else order[::-1]:
                    result = run_wrk(target, script, args.duration, wrk_cpu)
                    progress(
                        f"round {round_ + 1} {name}: p99 {result.p99_ms} ms, {result.rps} req/s"
                    )
                    runs[name].append(result)
            for target in (none, down):
                target.wait_loaded()
        finally:
            for target in (none, down):
                target.stop()
    assert none.database_url and down.database_url
    stored_none, stored_down = outbox(none.database_url), outbox(down.database_url)
    side_none, side_down = summary(runs["none"]), summary(runs["down"])
    side_none |= stored_none
    side_down |= stored_down | {"subscription": subscription, "receiver": args.receiver}
    return {
        "benchmark": "webhooks",
        "database": "postgresql" if args.postgres else "sqlite",
        "duration_s": args.duration,
        "rounds": args.rounds,
        "connections": CONNECTIONS,
        "pinned": {"server_cpu": server_cpu, "wrk_cpu": wrk_cpu},
        "none": side_none,
        "down": side_down,
        "p99_ratio": round(side_down["p99_ms"] / side_none["p99_ms"], 3),
        "rps_ratio": round(side_down["rps"] / side_none["rps"], 3),
        # every hit stored while the receiver was down is still queued for it
        "no_loss": stored_down["outbox_pending"] == stored_down["events"]
        and stored_down["outbox_failed"] == 0,
    }


def store_cost(tmp: Path, url: str | None, hits: int, batch: int = 1024) -> dict[str, float]:
    """CPU microseconds a hit costs the loader's store step (``EventLoader.load``, the
    judge left out) with no subscription and with one to every type: best of 3 rounds,
    each on a fresh database."""
    import time

    from sqlalchemy import text

    from inkling.model import Agent, Event, EventKind, Verdict, new_event_id
    from inkling.store import SegmentProgress, Store
    from inkling.store.webhooks import Subscription, Webhooks
    from inkling.tokens import new_message_id

    messages = [new_message_id() for _ in range(2000)]
    now = time.time()
    events = [
        Event(
            new_event_id(),
            messages[n % len(messages)],
            EventKind.CLICK if n % 5 == 0 else EventKind.OPEN,
            now + n / 1000,
            link=0 if n % 5 == 0 else None,
            ip="203.0.113.0",
            user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/154.0.0.0",
            evidence={"accept-language": "en-GB,en;q=0.9"},
            verdict=Verdict.HUMAN,
            agent=Agent.BROWSER,
            reasons=["a browser's request"],
        )
        for n in range(hits)
    ]
    out: dict[str, float] = {}
    for label, subscribed in (("none", False), ("subscribed", True)):
        best = float("inf")
        for round_ in range(3):
            db = url or f"sqlite:///{tmp / f'store-{label}-{round_}.db'}"
            store = Store(db)
            store.database.ensure_schema()
            if url:  # one PostgreSQL database for every round: emptied first
                with store.database.engine.begin() as connection:
                    connection.execute(
                        text("TRUNCATE events, webhook_outbox, webhook_subscriptions")
                    )
            if subscribed:
                Webhooks(store.database).add(
                    Subscription("wh_bench", "http://127.0.0.1:9/", ("*",), "whsec_AAAA", now)
                )
            loader = store.events.loader()
            started = time.process_time()
            for start in range(0, hits, batch):
                chunk = events[start : start + batch]
                loader.load(
                    chunk, [], [SegmentProgress("bench", start + len(chunk), start + len(chunk))]
                )
            best = min(best, time.process_time() - started)
            loader.close()
            store.close()
        out[f"{label}_us_per_hit"] = round(best / hits * 1e6, 2)
    out["ratio"] = round(out["subscribed_us_per_hit"] / out["none_us_per_hit"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument("--receiver", choices=("dead", "hanging"), default="dead")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument(
        "--store-only",
        action="store_true",
        help="only the loader's store step with and without a subscription (no servers)",
    )
    parser.add_argument("--hits", type=int, default=40_000, help="hits for the store step")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inkling-bench-webhooks-") as name:
        tmp = Path(name)
        if args.postgres:
            with fresh_postgres("postgresql://postgres@127.0.0.1:5432/postgres", 3) as urls:
                result = {} if args.store_only else measure(args, tmp, list(urls[:2]))
                result["store_step"] = store_cost(tmp, urls[2], args.hits)
        else:
            result = {} if args.store_only else measure(args, tmp, [None, None])
            result["store_step"] = store_cost(tmp, None, args.hits)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
