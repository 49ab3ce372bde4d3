"""Tracker benchmark: how fast ``inkling serve`` answers pixels and clicks, next to a bare
server that only returns the same GIF (and a redirect for clicks), whether every answered
hit was recorded, and how many instructions, how much kernel time and how many context
switches each hit costs.

Method
------
1. A temp dir gets a fresh token key, copied into every Inkling data dir, and the traffic
   is minted with it (``bench/traffic.py``): by default 2,000 messages with one pixel and
   four links each (10,000 distinct tokens), 80% opens and 20% clicks, with the request
   headers of Chrome and of classic Outlook for Windows; ``--traffic single`` is one pixel
   URL with wrk's bare request, as in the first tables of ``docs/benchmarks.md``. The
   tracker reads no database, so no message is registered. With ``--postgres`` each
   Inkling server gets a fresh PostgreSQL database, dropped after the run (the PostgreSQL
   server itself is not pinned, so it competes for both cores).
2. Servers start on free ports of 127.0.0.1 (``bench/servers.py``): the bare app, and one
   Inkling per durability mode (``--durability process|power|both``: ``INKLING_DURABILITY``;
   a server that has no such setting gets one run, ``durability_applied: false``). With
   ``--server granian`` both run under granian instead (``--interface asgi --loop uvloop
   --workers 1 --http 1``; granian adds ``server: granian`` to both apps' answers), and
   ``--server both`` measures both servers. Before measuring, a pixel and (for realistic
   traffic) a click are fetched from each server and the answers compared (status,
   headers less ``date`` and, for the click, the location's value; body):
   ``same_response``.
3. ``wrk -t1 -c64 --latency`` (the traffic's Lua script, or the single URL) warms each
   server up, then runs ``--rounds`` rounds of ``--duration`` seconds, the order of the
   servers rotating each round so drift hurts nobody in particular. On a machine with two
   or more cores the servers are pinned to CPU 0 and wrk to CPU 1 with ``taskset``
   (``--no-pin`` turns that off). ``server_cpu`` is the server's CPU use during a run (its
   whole process tree; near 1.0 means the one core was the limit), ``postgres_cpu`` what
   the PostgreSQL server used, ``others_cpu`` what the pinned cores spent on anything else:
   above 0.1 the round counts as disturbed. ``per_hit`` adds up every measured round of a
   server from ``/proc/PID/task/*``: user and kernel microseconds and voluntary and
   involuntary context switches, per response (``bench/procstat.py``).
4. Before Inkling is stopped, the bench waits until ``/readyz`` says its journal is fully
   loaded (``journal.backlog_events == 0``; a server without ``/readyz`` records before
   answering). It is stopped with SIGTERM (uvicorn re-raises the signal, so -15 is a clean
   stop) and the store's event count is compared with the responses wrk counted (plus the
   check requests). wrk drops the requests in flight when a run ends, so up to
   ``connections`` hits per run may be recorded without being counted: ``durable_ok`` is
   ``responses <= events <= responses + connections * runs``.
5. Instructions per hit (``bench/callgrind.py``; ``--no-callgrind`` skips it): each server
   starts again, fresh, under callgrind with counting off, gets ``--callgrind-warmup``
   requests of the same traffic, then counting goes on and exactly ``--hits`` requests are
   sent over ``connections`` keep-alive connections (``bench/counted.py``). A dump right
   after the last answer gives the **response path** (the whole server process while it
   answered); Inkling then gets until its journal is loaded and judged, and a second dump
   adds that deferred work: **all-in** (skipped, with the reason, for a server without
   ``/readyz``). The bare app defers nothing. ``ratio`` is bare / Inkling for each. The
   events stored must equal the requests sent (this client drops nothing).
6. One JSON object goes to stdout (progress to stderr). Each side is summarised by its
   median round by requests/s, among its undisturbed rounds if it has any. ``ratio`` is
   Inkling's req/s over the bare server's; ``meets_targets`` asks for ratio >= 0.8,
   Inkling p99 <= 25 ms, instructions ratio >= 0.75 on the response path and >= 0.5
   all-in, and ``correct`` (``targets_met`` tells each; one not measured is not met).

The exit status is 1 if anything was wrong (``correct`` false: events lost, errors,
different responses, an unclean stop) and 0 otherwise; the speed targets only inform.

``--profile FILE`` adds one unmeasured wrk run at the end with ``py-spy record`` on the
Inkling server (collapsed stacks in FILE, a summary in the JSON); ``--profile-gil`` samples
only the thread holding the GIL.

Run it as ``.venv/bin/python bench/tracker.py [--server uvicorn|granian|both] [--postgres]
[--durability process|power|both] [--traffic realistic|single] [--hits N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import callgrind
import counted
import pyspy
from procstat import (
    TaskCounters,
    children_seconds,
    cores_seconds,
    cpu_seconds,
    postgres_seconds,
    task_counters,
)
from servers import (
    BENCH_DIR,
    BIN,
    HOST,
    Target,
    bare_argv,
    fetch,
    free_port,
    inkling_argv,
    progress,
)
from traffic import Traffic, realistic, single
from wrk import WrkResult, parse_wrk, wrk_argv

TARGET_RATIO = 0.8
TARGET_P99_MS = 25.0
TARGET_IR_RESPONSE = 0.75  # bare / Inkling instructions per hit while answering
TARGET_IR_ALL_IN = 0.5  # the same, with the journal's deferred loading and judging
DISTURBED_CPU = 0.1  # CPU taken on the pinned cores by other processes that spoils a round
SERVER_LABELS = {"uvicorn": "uvicorn+httptools+uvloop", "granian": "granian+uvloop"}
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DURABILITY_MODES = ("process", "power")
NO_JOURNAL = "the server has no /readyz journal status (it records each hit before answering)"


# -- set-up -------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INKLING_", "GRANIAN_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def durability_supported() -> bool:
    """Whether the Inkling under test knows ``INKLING_DURABILITY``."""
    from inkling.config import Settings

    return "durability" in Settings.model_fields


@contextlib.contextmanager
def fresh_postgres(admin_url: str, count: int) -> Iterator[list[str]]:
    """``count`` new, empty PostgreSQL databases (SQLAlchemy URLs), dropped afterwards."""
    import psycopg

    names = [f"inkling_bench_{secrets.token_hex(4)}" for _ in range(count)]
    parts = urlsplit(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield [
            urlunsplit(("postgresql+psycopg", parts.netloc, f"/{name}", "", "")) for name in names
        ]
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        progress(f"dropped database(s) {', '.join(names)}")


def _source_state() -> dict[str, Any]:
    """The commit measured, whether ``src/`` had uncommitted changes (read-only git), and
    where the ``inkling`` package that ran was imported from (``PYTHONPATH`` may point
    elsewhere, e.g. at an exported commit)."""
    import inkling

    root = BENCH_DIR.parent

    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *argv], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "src_dirty": bool(git("status", "--porcelain", "--", "src")),
        "inkling_from": str(Path(inkling.__file__).resolve().parent),
    }


def _count_events(url: str) -> int:
    from inkling.store import Store

    store = Store(url)  # migrates an empty database, so a count before the server is 0
    try:
        # ``Store.count_events`` before the store was split by noun, ``events.count`` after.
        legacy = getattr(store, "count_events", None)
        return int(legacy() if legacy is not None else store.events.count())
    finally:
        store.close()


@dataclass
class Setup:
    """What one run shares: the temp dir, the token key, the traffic and its wrk script."""

    tmp: Path
    key_file: Path
    traffic: Traffic
    script: Path | None
    urls: list[str | None]  # database per Inkling server to start, in order of need
    config: Path  # an empty inkling.toml: every server runs on the defaults and INKLING_*
    callgrind_dir: Path | None = None  # where the dumps stay (default: the temp dir)
    counter: int = 0
    pairs: list[tuple[Target, list[Target]]] = field(default_factory=list)

    def next_url(self) -> str | None:
        url = self.urls[self.counter % len(self.urls)]
        self.counter += 1
        return url


def make_setup(args: argparse.Namespace, tmp: Path, urls: list[str | None]) -> Setup:
    from inkling.tokens import KEY_FILE, TokenCodec

    key_dir = tmp / "key"
    key_dir.mkdir()
    codec = TokenCodec.for_data_dir(key_dir)
    traffic = realistic(codec) if args.traffic == "realistic" else single(codec)
    script = None
    if traffic.name != "single":
        script = tmp / "traffic.lua"
        traffic.write_lua(script)
    config = tmp / "inkling.toml"
    config.write_text("# empty: the benchmark's servers run on the defaults and INKLING_*\n")
    return Setup(tmp, key_dir / KEY_FILE, traffic, script, urls, config, args.callgrind_dir)


def inkling_target(setup: Setup, server: str, mode: str | None, label: str) -> Target:
    """A fresh Inkling: its own port, data dir (with the run's key) and database."""
    data_dir = setup.tmp / f"data-{label}-{server}-{mode or 'default'}"
    data_dir.mkdir()
    shutil.copy2(setup.key_file, data_dir / setup.key_file.name)
    env = _clean_env() | {
        "INKLING_DATA_DIR": str(data_dir),
        "INKLING_CONFIG": str(setup.config),
    }
    if mode is not None:
        env["INKLING_DURABILITY"] = mode
    url = setup.next_url()
    if url:
        env["INKLING_DATABASE_URL"] = url
    db_url = url or f"sqlite:///{(data_dir / 'inkling.db').resolve()}"
    port = free_port()
    log = setup.tmp / f"{label}-inkling-{server}-{mode or 'default'}.log"
    argv = inkling_argv(server, port)
    return Target("inkling", server, port, argv, env, log, database_url=db_url, durability=mode)


def bare_target(setup: Setup, server: str, label: str) -> Target:
    # The bare app under uvicorn is ``inkling serve`` with the app swapped: it opens (but
    # never uses) a store, so it gets its own data dir and never the database.
    bare_dir = setup.tmp / f"bare-data-{label}-{server}"
    env = _clean_env() | {
        "INKLING_DATA_DIR": str(bare_dir),
        "INKLING_CONFIG": str(setup.config),
    }
    port = free_port()
    log = setup.tmp / f"{label}-bare-{server}.log"
    return Target("bare", server, port, bare_argv(server, port), env, log)


# -- measuring with wrk -------------------------------------------------------------------


def run_wrk(target: Target, setup: Setup, args: argparse.Namespace, seconds: float) -> WrkResult:
    assert target.process is not None
    path = setup.traffic.paths[0] if setup.script is None else "/"
    argv = wrk_argv(
        f"http://{HOST}:{target.port}{path}",
        threads=args.threads,
        connections=args.connections,
        seconds=seconds,
        script=setup.script,
    )
    if args.wrk_cpu is not None:
        argv = ["taskset", "-c", args.wrk_cpu, *argv]
    pid = target.process.pid
    cores = [cpu for cpu in (args.server_cpu, args.wrk_cpu) if cpu is not None]

    def clocks() -> tuple[float, ...]:
        return (
            cpu_seconds(pid),
            children_seconds(),  # wrk's, once it has finished
            postgres_seconds(),
            cores_seconds(cores),
            time.monotonic(),
        )

    tasks_before = task_counters(pid)
    before = clocks()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    server, wrk, postgres, busy, wall = (b - a for a, b in zip(before, clocks(), strict=True))
    tasks = task_counters(pid) - tasks_before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout, server_cpu=server / wall)
    result.postgres_cpu = postgres / wall
    result.server_tasks = tasks
    if cores:  # on a 2-core machine the pinned cores are all there is, PostgreSQL included
        result.others_cpu = max(0.0, (busy - server - wrk - postgres) / wall)
    return result


def _answer(target: Target, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    status, headers, body = fetch(target.port, path)
    target.checked_responses += 1
    kept = sorted((k.lower(), v) for k, v in headers if k.lower() != "date")
    return status, kept, body


def check_same_response(inkling: Target, bare: Target, traffic: Traffic) -> bool:
    """Both answer the pixel with the same status, headers (but ``date``) and body, and a
    click (if the traffic has any) with a 302 with the same headers but the location's
    value (the bare app cannot read the token)."""
    pixel = traffic.paths[0]
    answers = [_answer(target, pixel) for target in (inkling, bare)]
    same = answers[0] == answers[1] and answers[0][0] == 200
    click = next((p for p in traffic.paths if p.startswith("/t/c/")), None)
    if click is not None:
        redirects = [_answer(target, click) for target in (inkling, bare)]
        shapes = [
            (status, [(k, "" if k == "location" else v) for k, v in headers], body)
            for status, headers, body in redirects
        ]
        answers += redirects
        same = same and shapes[0] == shapes[1] and shapes[0][0] == 302
    if not same:
        progress(
            f"WARNING: responses differ:\n  inkling: {answers[0::2]}\n  bare:    {answers[1::2]}"
        )
    return same


def disturbed(run: WrkResult) -> bool:
    """Other processes took a noticeable share of the server's or wrk's core."""
    return (run.others_cpu or 0.0) > DISTURBED_CPU


def median_round(runs: list[WrkResult]) -> WrkResult:
    """The median round by req/s, among the undisturbed rounds if there are any."""
    clean = [r for r in runs if not disturbed(r)] or runs
    middle = statistics.median_low([r.rps for r in clean])
    return next(r for r in clean if r.rps == middle)


def per_hit(runs: list[WrkResult]) -> dict[str, float | None]:
    """Kernel and user time and context switches per response, over all ``runs``."""
    responses = sum(r.requests for r in runs)
    total = TaskCounters()
    for run in runs:
        total += run.server_tasks or TaskCounters()
    if responses == 0:
        return {"user_us": None, "kernel_us": None, "voluntary_cs": None, "involuntary_cs": None}
    return {
        "user_us": round(total.user_s * 1e6 / responses, 2),
        "kernel_us": round(total.system_s * 1e6 / responses, 2),
        "voluntary_cs": round(total.voluntary / responses, 4),
        "involuntary_cs": round(total.involuntary / responses, 4),
    }


def side(runs: list[WrkResult]) -> dict[str, Any]:
    """One server's summary: its median round, every round's req/s, the disturbed ones,
    and its per-hit kernel figures over every round."""
    return median_round(runs).summary() | {
        "rps_rounds": [round(r.rps, 1) for r in runs],
        "disturbed_rounds": sum(disturbed(r) for r in runs),
        "per_hit": per_hit(runs),
    }


def profile(target: Target, setup: Setup, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """One unmeasured wrk run with py-spy sampling the Inkling server into ``out``."""
    seconds = max(args.duration, 5.0)

    def load() -> None:
        target.extra.append(run_wrk(target, setup, args, seconds))

    pyspy.record(target.pid, seconds, out, gil=args.profile_gil, load=load)
    return pyspy.summarise(out)


# -- measuring with callgrind -------------------------------------------------------------


@contextlib.contextmanager
def _pinned_to(cpu: str | None) -> Iterator[None]:
    """Run this process (the counted client) on ``cpu`` meanwhile, away from the server."""
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(cpu)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass
class CountedRun:
    """What one server did under callgrind: the warm-up and counted hits, and the
    instructions of the answering phase and of the deferred work after it (None: the
    server has no journal)."""

    pid: int
    warm: counted.Counted
    hits: counted.Counted
    answering: callgrind.Phase
    deferred: callgrind.Phase | None = None
    readyz_polls: int = 0
    loaded_while_answering: int | None = None  # journal events loaded meanwhile


def run_counted(target: Target, setup: Setup, args: argparse.Namespace) -> CountedRun:
    """Step 5 for ``target`` (a fresh server): start it under callgrind, warm it up, count
    ``--hits`` answers, then the deferred work until its journal is loaded."""
    probe = callgrind.Callgrind(setup.callgrind_dir or setup.tmp / "callgrind", target.name)
    requests = setup.traffic.requests(f"{HOST}:{target.port}")
    target.start(args.server_cpu, wrap=probe.wrap([]))
    try:
        pid = target.wait_ready(timeout=600)
        progress(f"{target.name} under callgrind (pid {pid}): {args.callgrind_warmup} warm-up")
        with _pinned_to(args.wrk_cpu):
            warm = counted.send(
                HOST, target.port, requests, args.callgrind_warmup, args.connections
            )
        before = target.wait_loaded()
        probe.start(pid)
        with _pinned_to(args.wrk_cpu):
            hits = counted.send(
                HOST, target.port, requests, args.hits, args.connections, start=warm.answers
            )
        run = CountedRun(pid, warm, hits, probe.dump(pid))
        if before is not None:  # polled seldom: each /readyz is counted with the deferred work
            polls = target.readyz_calls
            after = target.journal() or before
            loaded = after["journal"]["loaded_events"] - before["journal"]["loaded_events"]
            run.loaded_while_answering = loaded
            target.wait_loaded(poll=2.0)
            run.deferred = probe.dump(pid)
            run.readyz_polls = target.readyz_calls - polls
        probe.stop(pid)
    finally:
        target.stop(timeout=300)
    return run


def count_instructions(
    target: Target, setup: Setup, args: argparse.Namespace, baseline: int
) -> dict[str, Any]:
    """Instructions per hit of ``target`` (a fresh server) under callgrind, and whether
    every hit sent was stored."""
    run = run_counted(target, setup, args)
    hits = run.hits.answers
    requests = setup.traffic.requests("-")
    window = [requests[(run.warm.answers + i) % len(requests)] for i in range(hits)]
    clicks = sum(r.startswith(b"GET /t/c/") for r in window)
    main_thread = run.answering.by_thread.get((run.pid, 1), 0)
    result: dict[str, Any] = {
        "hits": hits,
        "clicks_share": round(clicks / hits, 3),
        "failures": run.hits.failures + run.warm.failures,
        "seconds": round(run.hits.seconds, 1),
        # The response path is the event loop's thread: everything between a request and its
        # answer happens there (the journal write included); other threads (the loader)
        # do the deferred work, counted in all_in.
        "response_path": round(main_thread / hits),
        "while_answering_all_threads": round(run.answering.total / hits),
        # callgrind's thread numbers (1 is the main thread: the event loop), and a child
        # process's pid before its own
        "response_path_by_thread": {
            (str(thread) if proc == run.pid else f"{proc}:{thread}"): round(count / hits)
            for (proc, thread), count in sorted(run.answering.by_thread.items())
        },
        "stopped_cleanly": target.stopped_cleanly,
    }
    if target.app == "bare":
        result["all_in"] = result["while_answering_all_threads"]  # it defers nothing
    elif run.deferred is None:
        result["all_in"] = None
        result["all_in_skipped"] = NO_JOURNAL
    else:
        result["all_in"] = round((run.answering + run.deferred).total / hits)
        result["loaded_while_answering"] = run.loaded_while_answering
        result["readyz_polls"] = run.readyz_polls
    if target.app == "inkling":
        sent = run.warm.answers + hits
        events = _count_events(target.database_url or "") - baseline
        result |= {"events": events, "sent": sent, "durable_ok": events == sent}
    all_in = result["all_in"]
    progress(
        f"{target.name}: {result['response_path']:,} instructions/hit answering, "
        f"all-in {'skipped' if all_in is None else f'{all_in:,}'}"
    )
    return result


def instruction_ratios(inkling: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    def ratio(ink: int | None, base: int | None) -> float | None:
        return round(base / ink, 3) if ink and base else None

    return {
        "inkling": inkling,
        "bare": bare,
        "ratio_response_path": ratio(inkling["response_path"], bare["response_path"]),
        "ratio_all_in": ratio(inkling["all_in"], bare["all_in"]),
    }


def measure_instructions(setup: Setup, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Step 5 for every server: the bare app once, each Inkling; by Inkling target name."""
    results: dict[str, dict[str, Any]] = {}
    for bare, inklings in setup.pairs:
        label = "cg"
        try:
            base = count_instructions(bare_target(setup, bare.server, label), setup, args, 0)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            progress(f"callgrind run of {bare.name} failed: {exc}")
            for inkling in inklings:
                results[inkling.name] = {"error": f"{bare.name}: {exc}"}
            continue
        for inkling in inklings:
            fresh = inkling_target(setup, inkling.server, inkling.durability, label)
            try:
                baseline = _count_events(fresh.database_url or "")
                ink = count_instructions(fresh, setup, args, baseline)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                progress(f"callgrind run of {fresh.name} failed: {exc}")
                results[inkling.name] = {"error": str(exc)}
                continue
            results[inkling.name] = instruction_ratios(ink, base)
    return results


# -- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--server", choices=["uvicorn", "granian", "both"], default="uvicorn")
    parser.add_argument("--durability", choices=["process", "power", "both"], default="process")
    parser.add_argument("--traffic", choices=["realistic", "single"], default="realistic")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds; 0 to skip")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--hits", type=int, default=20_000, help="requests counted under callgrind")
    parser.add_argument(
        "--callgrind-warmup", type=int, default=2_000, help="requests before counting starts"
    )
    parser.add_argument("--no-callgrind", action="store_true", help="skip instruction counts")
    parser.add_argument(
        "--callgrind-dir", type=Path, help="keep the callgrind dumps here (for callgrind_annotate)"
    )
    db = parser.add_mutually_exclusive_group()
    db.add_argument(
        "--database-url",
        help="use this database as it is (events are counted as a difference)",
    )
    db.add_argument(
        "--postgres",
        action="store_true",
        help="create a fresh PostgreSQL database per Inkling server and drop it after",
    )
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="for --postgres")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument("--profile", metavar="FILE", help="py-spy collapsed stacks of Inkling")
    parser.add_argument(
        "--profile-gil", action="store_true", help="sample only threads holding the GIL"
    )
    args = parser.parse_args(argv)
    several = args.server == "both" or args.durability == "both"
    if several and args.database_url:
        parser.error("several Inkling servers with --database-url would share it; use --postgres")
    if args.rounds < 1 or args.connections < 1 or args.duration <= 0 or args.hits < 1:
        parser.error("--rounds, --connections, --duration and --hits must be positive")
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    args.server_cpu = "0" if pin else None
    args.wrk_cpu = "1" if pin else None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        progress("wrk is missing: apt-get install wrk (or ./scripts/test-services)")
        return 2
    servers = ["uvicorn", "granian"] if args.server == "both" else [args.server]
    if "granian" in servers and not (BIN / "granian").exists():
        progress(f"granian is missing: {BIN / 'pip'} install granian")
        return 2
    modes = _modes(args)
    if not args.no_callgrind and (why := callgrind.available()) is not None:
        progress(f"skipping instruction counts: {why}")
        args.no_callgrind = True
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="inkling-bench-")))
        if args.postgres:
            count = len(servers) * len(modes) * (1 if args.no_callgrind else 2)
            urls: list[str | None] = list(
                stack.enter_context(fresh_postgres(args.pg_admin_url, count))
            )
        else:
            urls = [args.database_url]
        report = measure(args, servers, modes, make_setup(args, tmp, urls))
    print(json.dumps(report))
    results = report.get("servers", [report])
    return 0 if all(r["correct"] for r in results) else 1


def _modes(args: argparse.Namespace) -> list[str | None]:
    """The durability modes to measure; [None] for a server that has no such setting."""
    if not durability_supported():
        progress(
            "this Inkling has no INKLING_DURABILITY setting: measuring it as it is "
            "(durability_applied: false)"
        )
        return [None]
    return list(DURABILITY_MODES) if args.durability == "both" else [args.durability]


def measure(
    args: argparse.Namespace, servers: list[str], modes: list[str | None], setup: Setup
) -> dict[str, Any]:
    for server in servers:
        bare = bare_target(setup, server, "wrk")
        inklings = [inkling_target(setup, server, mode, "wrk") for mode in modes]
        setup.pairs.append((bare, inklings))
    inklings = [i for _, group in setup.pairs for i in group]
    baseline = {i.name: _count_events(i.database_url or "") for i in inklings}
    targets = [t for bare, group in setup.pairs for t in (*group, bare)]
    same: dict[str, bool] = {}
    profiles: dict[str, dict[str, Any]] = {}
    journals: dict[str, dict[str, Any] | None] = {}
    try:
        for target in targets:
            target.start(args.server_cpu)
        for target in targets:
            pid = target.wait_ready()
            progress(f"{target.name} ready on port {target.port} (pid {pid})")
        for bare, group in setup.pairs:
            for inkling in group:
                same[inkling.name] = check_same_response(inkling, bare, setup.traffic)
        if args.warmup > 0:
            for target in targets:
                target.extra.append(run_wrk(target, setup, args, args.warmup))
        run_rounds(args, setup, targets)
        if args.profile:
            for inkling in inklings:
                progress(f"profiling {inkling.name} with py-spy for {args.duration:g} s")
                out = Path(args.profile).resolve()
                if len(inklings) > 1:
                    stem = inkling.name.replace("@", "-").replace("[", "-").replace("]", "")
                    out = out.with_name(f"{out.stem}-{stem}{out.suffix}")
                profiles[inkling.name] = profile(inkling, setup, args, out)
        for inkling in inklings:
            journals[inkling.name] = inkling.wait_loaded()
    finally:
        for target in targets:
            target.stop()
    instructions: dict[str, dict[str, Any]] = {}
    if not args.no_callgrind:
        instructions = measure_instructions(setup, args)
    results = []
    for bare, group in setup.pairs:
        for inkling in group:
            summary = summarise(args, setup, inkling, bare, same[inkling.name], baseline)
            summary["journal"] = journals.get(inkling.name, {}) or {"skipped": NO_JOURNAL}
            summary["instructions"] = instructions.get(inkling.name) or {
                "skipped": "--no-callgrind"
            }
            if inkling.name in profiles:
                summary["profile"] = profiles[inkling.name]
            judge(summary)
            results.append(summary)
    source = _source_state()
    if len(results) == 1:
        return results[0] | {"source": source}
    fastest = max(results, key=lambda r: r["inkling"]["rps"])
    return {
        "servers": results,
        "source": source,
        "fastest_for_inkling": fastest["server"],
        "fastest_durability": fastest["durability"],
        "fastest_inkling_rps": fastest["inkling"]["rps"],
        "fastest_inkling_p99_ms": fastest["inkling"]["p99_ms"],
    }


def run_rounds(args: argparse.Namespace, setup: Setup, targets: list[Target]) -> None:
    for round_no in range(args.rounds):
        shift = round_no % len(targets)
        for target in targets[shift:] + targets[:shift]:
            result = run_wrk(target, setup, args, args.duration)
            target.runs.append(result)
            progress(
                f"round {round_no + 1}/{args.rounds} {target.name:>24}: "
                f"{result.rps:9.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:6.2f} ms  cpu {result.server_cpu:.2f}"
                f"  pg {result.postgres_cpu:.2f}  others {result.others_cpu or 0.0:.2f}"
            )


def summarise(
    args: argparse.Namespace,
    setup: Setup,
    inkling: Target,
    bare: Target,
    same: bool,
    baselines: dict[str, int],
) -> dict[str, Any]:
    ink, base = median_round(inkling.runs), median_round(bare.runs)
    every_ink = inkling.runs + inkling.extra
    responses = sum(r.requests for r in every_ink) + inkling.checked_responses
    events = _count_events(inkling.database_url or "") - baselines[inkling.name]
    durable = responses <= events <= responses + args.connections * len(every_ink)
    every = every_ink + bare.runs + bare.extra
    non_2xx = sum(r.non_2xx for r in every)
    socket_errors = sum(r.socket_errors for r in every)
    ratio = ink.rps / base.rps if base.rps else 0.0
    others = [r.others_cpu for r in inkling.runs + bare.runs if r.others_cpu is not None]
    clean_stop = inkling.stopped_cleanly
    url = inkling.database_url or ""
    return {
        "server": SERVER_LABELS[inkling.server],
        "durability": inkling.durability,
        "durability_applied": inkling.durability is not None,
        "traffic": setup.traffic.summary(),
        "connections": args.connections,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "wrk_threads": args.threads,
        "pinned": {"server_cpu": args.server_cpu, "wrk_cpu": args.wrk_cpu}
        if args.server_cpu is not None
        else None,
        "inkling": side(inkling.runs),
        "bare": side(bare.runs),
        "ratio": round(ratio, 3),
        "max_others_cpu": round(max(others), 2) if others else None,
        "events": events,
        "responses": responses,
        "durable_ok": durable,
        "same_response": same,
        "non_2xx": non_2xx,
        "socket_errors": socket_errors,
        "inkling_exit_code": inkling.exit_code,
        "inkling_stopped_cleanly": clean_stop,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "correct": durable and same and clean_stop and non_2xx == 0 and socket_errors == 0,
        "targets": {
            "ratio": TARGET_RATIO,
            "p99_ms": TARGET_P99_MS,
            "instructions_response_path": TARGET_IR_RESPONSE,
            "instructions_all_in": TARGET_IR_ALL_IN,
        },
    }


def judge(summary: dict[str, Any]) -> None:
    """Fold the instruction counts' correctness into ``correct``; set ``targets_met`` (a
    target not measured is None) and ``meets_targets`` (every target met, and correct)."""
    counts = summary["instructions"]
    if "error" in counts:
        summary["correct"] = False
    elif "inkling" in counts:
        ink, base = counts["inkling"], counts["bare"]
        ok = ink["durable_ok"] and ink["stopped_cleanly"] and base["stopped_cleanly"]
        summary["correct"] = summary["correct"] and ok and ink["failures"] == base["failures"] == 0

    def at_least(value: float | None, bar: float) -> bool | None:
        return None if value is None else value >= bar

    met = {
        "ratio": summary["ratio"] >= TARGET_RATIO,
        "p99_ms": summary["inkling"]["p99_ms"] <= TARGET_P99_MS,
        "instructions_response_path": at_least(
            counts.get("ratio_response_path"), TARGET_IR_RESPONSE
        ),
        "instructions_all_in": at_least(counts.get("ratio_all_in"), TARGET_IR_ALL_IN),
    }
    summary["targets_met"] = met
    summary["meets_targets"] = summary["correct"] and all(v is True for v in met.values())


if __name__ == "__main__":
    sys.exit(main())
