"""Tracker benchmark: how fast ``inkling serve`` answers the open pixel, next to a bare
server that only returns the same GIF, and whether every answered hit was recorded.

Method
------
1. A temp data dir gets a fresh key, and one valid open token is made for a fresh message
   id (the tracker reads no database, so the message need not be registered). With
   ``--postgres`` each Inkling server gets a fresh PostgreSQL database, dropped after the
   run (the PostgreSQL server itself is not pinned, so it competes for both cores).
2. Two servers start on free ports of 127.0.0.1, under the same server and settings:
   Inkling (``inkling serve``: uvicorn, uvloop, httptools, no access log, one process) and
   ``bench/bare_gif.py`` (same GIF bytes, status and headers, nothing else), which is run
   as ``inkling serve`` with the app swapped, so it gets the very same ``uvicorn.run``. With
   ``--server granian`` both run under granian instead (``--interface asgi --loop uvloop
   --workers 1 --http 1``; Inkling through :func:`inkling_app`; granian runs the ASGI
   lifespan like uvicorn, adds ``server: granian`` to both apps' answers, and on SIGTERM
   stops its worker after the lifespan shutdown), and ``--server both`` measures the four
   together. Before measuring, one pixel is fetched from each server and
   the answers compared (status, headers less ``date``, body): ``same_response``.
3. ``wrk -t1 -c64 --latency`` (GET of the same ``/t/o/{token}.gif`` URL for every server)
   warms each server up, then runs ``--rounds`` rounds of ``--duration`` seconds, the order
   of the servers rotating each round so drift hurts nobody in particular. On a machine
   with two or more cores the servers are pinned to CPU 0 and wrk to CPU 1 with
   ``taskset`` (``--no-pin`` turns that off), so the client never steals the server's core.
   The server's CPU use during each run (its whole process tree) is reported as
   ``server_cpu``: near 1.0 means the one core was the limit; ``postgres_cpu`` is what
   the PostgreSQL server's processes used. ``others_cpu`` is the CPU the two pinned cores
   spent on anything else (other processes, the hypervisor's steal): above 0.1 the round
   counts as disturbed (``disturbed_rounds``); ``max_others_cpu`` is the worst round.
4. Inkling is stopped with SIGTERM (it flushes its queue on shutdown; uvicorn then
   re-raises the signal, so its exit status -15 is a clean stop) and the store's event
   count is compared with the responses wrk counted (plus the one check request). wrk
   drops the requests in flight when a run ends, so up to ``connections`` hits per run
   may be recorded without being counted: ``durable_ok`` is
   ``responses <= events <= responses + connections * runs``.
5. One JSON object goes to stdout (progress to stderr). Each side is summarised by its
   median round by requests/s, among its undisturbed rounds if it has any (on a shared
   machine, re-run when most rounds are disturbed). ``ratio`` is Inkling's req/s over the
   bare server's; ``meets_targets`` asks for ratio >= 0.8, Inkling p99 <= 25 ms and
   ``correct``. wrk is a closed loop: with every connection busy, latency is mostly
   queueing (about connections / throughput), so p99 moves with req/s.

The exit status is 1 if anything was wrong (``correct`` false: events lost, errors,
different responses, an unclean stop) and 0 otherwise; the speed targets only inform.

``--profile FILE`` adds one unmeasured wrk run at the end with ``py-spy record`` on the
Inkling server (collapsed stacks in FILE, a summary in the JSON); ``--profile-gil`` samples
only the thread holding the GIL.

Run it as ``.venv/bin/python bench/tracker.py [--server uvicorn|granian|both] [--postgres]``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from inkling.tracker.app import ASGIApp

BENCH_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
TARGET_RATIO = 0.8
TARGET_P99_MS = 25.0
DISTURBED_CPU = 0.1  # CPU taken on the pinned cores by other processes that spoils a round
SERVER_LABELS = {"uvicorn": "uvicorn+httptools+uvloop", "granian": "granian+uvloop"}
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def inkling_app() -> ASGIApp:
    """Inkling's ASGI app as ``inkling serve`` builds it (settings from ``INKLING_*``), for
    servers that import an app factory, e.g. ``granian --factory tracker:inkling_app``."""
    from inkling.config import load_settings
    from inkling.server import Services, build_app

    return build_app(Services.open(load_settings()))


# -- wrk ----------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int
    server_cpu: float
    postgres_cpu: float = 0.0
    others_cpu: float | None = None  # what else ran on the pinned cores (None: unpinned)

    def summary(self) -> dict[str, float | int | None]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "server_cpu": round(self.server_cpu, 2),
            "postgres_cpu": round(self.postgres_cpu, 2),
            "others_cpu": None if self.others_cpu is None else round(self.others_cpu, 2),
        }


def parse_wrk(output: str, server_cpu: float = 0.0) -> WrkResult:
    """The numbers of one ``wrk --latency`` run; raises ValueError on unexpected output."""
    requests = _REQUESTS.search(output)
    rps = _RPS.search(output)
    if requests is None or rps is None:
        raise ValueError(f"cannot read wrk output:\n{output}")
    percentiles = {
        int(p): round(float(v) * _UNIT_MS[u], 3) for p, v, u in _PERCENTILE.findall(output)
    }
    if set(percentiles) != {50, 75, 90, 99}:
        raise ValueError(f"wrk printed no latency distribution:\n{output}")
    socket_errors = _SOCKET.search(output)
    non_2xx = _NON_2XX.search(output)
    return WrkResult(
        requests=int(requests.group(1)),
        seconds=float(requests.group(2)) * _UNIT_MS[requests.group(3)] / 1000.0,
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        server_cpu=server_cpu,
    )


# -- processes ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (granian runs its worker as a child)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of ``pid``'s process tree (all threads)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in _process_tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass
class Target:
    """One server under test."""

    app: str  # "inkling" or "bare"
    server: str  # "uvicorn" or "granian"
    port: int
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    database_url: str | None = None
    runs: list[WrkResult] = field(default_factory=list)
    extra: list[WrkResult] = field(default_factory=list)  # warm-up and profile runs
    checked_responses: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    exit_code: int | None = None
    killed: bool = False

    @property
    def name(self) -> str:
        return f"{self.app}@{self.server}"

    def is_ready(self) -> bool:
        """Inkling answers its health check; the bare app answers the GIF even on ``/``
        (where Inkling says 404, so a bare server that is secretly Inkling never passes)."""
        if self.app == "inkling":
            return fetch(self.port, "/healthz")[0] == 200
        status, _, body = fetch(self.port, "/")
        return status == 200 and body.startswith(b"GIF89a")

    def start(self, pin: str | None) -> None:
        argv = ["taskset", "-c", pin, *self.argv] if pin is not None else self.argv
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            env=self.env,
            cwd=self.log_path.parent,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> int:
        """Wait for the server to answer; returns its pid."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.is_ready():
                    return self.process.pid
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (graceful: Inkling flushes its queue), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            self.exit_code = self.process.returncode if self.process else None
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            progress(f"{self.name} ignored SIGTERM for {timeout:.0f} s; killing it")
            self.process.kill()
            self.killed = True
            self.exit_code = self.process.wait()
        if self.log is not None:
            self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def fetch(port: int, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- set-up -------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INKLING_", "GRANIAN_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _make_token(data_dir: Path) -> str:
    from inkling.tokens import TokenCodec, new_message_id

    codec = TokenCodec.for_data_dir(data_dir)
    return codec.open_token(new_message_id(), int(time.time()))


def _inkling_argv(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [
            str(BIN / "inkling"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
    return _granian_argv(port, "tracker:inkling_app", factory=True)


def _bare_argv(server: str, port: int) -> list[str]:
    if server == "uvicorn":  # ``inkling serve`` itself, with the bare app swapped in
        script = str(BENCH_DIR / "bare_gif.py")
        serve = ["serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
        return [sys.executable, script, *serve]
    return _granian_argv(port, "bare_gif:app", factory=False)


def _granian_argv(port: int, target: str, *, factory: bool) -> list[str]:
    argv = [
        str(BIN / "granian"),
        "--interface",
        "asgi",
        "--loop",
        "uvloop",
        "--workers",
        "1",
        "--http",
        "1",
        "--no-ws",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--working-dir",
        str(BENCH_DIR),
    ]
    return [*argv, "--factory", target] if factory else [*argv, target]


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
    """The commit measured, and whether ``src/`` had uncommitted changes (read-only git)."""
    root = BENCH_DIR.parent

    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *argv], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "src_dirty": bool(git("status", "--porcelain", "--", "src")),
    }


def _count_events(url: str) -> int:
    from inkling.store import Store

    store = Store(url)  # migrates an empty database, so a count before the server is 0
    try:
        return store.count_events()
    finally:
        store.close()


# -- measuring ----------------------------------------------------------------------------


def _cores_seconds(cpus: list[str]) -> float:
    """User, nice, system and steal seconds spent so far on the CPUs ``cpus``."""
    names = {f"cpu{cpu}" for cpu in cpus}
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] in names:
            total += sum(int(fields[i]) for i in (1, 2, 3, 8))
    return total / os.sysconf("SC_CLK_TCK")


def _postgres_seconds() -> float:
    """CPU seconds used so far by the processes named ``postgres`` (the local server)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
                fields = text.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _children_seconds() -> float:
    """CPU seconds of the finished children (wrk, once it has been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(target: Target, url_path: str, args: argparse.Namespace, seconds: float) -> WrkResult:
    assert target.process is not None
    argv = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        "--latency",
        f"http://{HOST}:{target.port}{url_path}",
    ]
    if args.wrk_cpu is not None:
        argv = ["taskset", "-c", args.wrk_cpu, *argv]
    pid = target.process.pid
    cores = [cpu for cpu in (args.server_cpu, args.wrk_cpu) if cpu is not None]

    def clocks() -> tuple[float, ...]:
        return (
            _cpu_seconds(pid),
            _children_seconds(),  # wrk's, once it has finished
            _postgres_seconds(),
            _cores_seconds(cores),
            time.monotonic(),
        )

    before = clocks()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    server, wrk, postgres, busy, wall = (b - a for a, b in zip(before, clocks(), strict=True))
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout, server_cpu=server / wall)
    result.postgres_cpu = postgres / wall
    if cores:  # on a 2-core machine the pinned cores are all there is, PostgreSQL included
        result.others_cpu = max(0.0, (busy - server - wrk - postgres) / wall)
    return result


def check_same_response(inkling: Target, bare: Target, url_path: str) -> bool:
    """Both answer the pixel URL with the same status, headers (but ``date``) and body."""
    answers = []
    for target in (inkling, bare):
        status, headers, body = fetch(target.port, url_path)
        target.checked_responses += 1
        kept = sorted((k.lower(), v) for k, v in headers if k.lower() != "date")
        answers.append((status, kept, body))
    if answers[0] != answers[1]:
        progress(f"WARNING: responses differ:\n  inkling: {answers[0]}\n  bare:    {answers[1]}")
        return False
    return answers[0][0] == 200


def disturbed(run: WrkResult) -> bool:
    """Other processes took a noticeable share of the server's or wrk's core."""
    return (run.others_cpu or 0.0) > DISTURBED_CPU


def median_round(runs: list[WrkResult]) -> WrkResult:
    """The median round by req/s, among the undisturbed rounds if there are any."""
    clean = [r for r in runs if not disturbed(r)] or runs
    middle = statistics.median_low([r.rps for r in clean])
    return next(r for r in clean if r.rps == middle)


def side(runs: list[WrkResult]) -> dict[str, Any]:
    """One server's summary: its median round, every round's req/s, the disturbed ones."""
    return median_round(runs).summary() | {
        "rps_rounds": [round(r.rps, 1) for r in runs],
        "disturbed_rounds": sum(disturbed(r) for r in runs),
    }


def profile(target: Target, url_path: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """One unmeasured wrk run with py-spy sampling the Inkling server into ``out``."""
    assert target.process is not None
    py_spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if py_spy is None:
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    seconds = max(args.duration, 5.0)
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(target.process.pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "250",
            "--duration",
            f"{seconds - 1:g}",
            "--output",
            str(out),
            "--nonblocking",
            *(["--gil"] if args.profile_gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    target.extra.append(run_wrk(target, url_path, args, seconds))
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")
    return summarise_profile(out)


def summarise_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Where py-spy's samples (collapsed stacks) fall: by thread kind (the event loop, or
    the ``to_thread`` workers that commit), the busiest functions by self share, and
    Inkling's own functions (not the CLI) by inclusive share."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        count = int(count_text)
        total += count
        kinds["threads" if "Thread._bootstrap (threading.py)" in frames else "event_loop"] += count
        own[frames[-1]] += count
        for frame in set(frames):
            if "(inkling/" in frame and "(inkling/cli.py)" not in frame:
                inclusive[frame] += count
    if total == 0:
        return {"samples": 0}

    def shares(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100.0 * n / total, 1)] for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "by_thread_pct": {k: round(100.0 * n / total, 1) for k, n in kinds.items()},
        "self_pct": shares(own),
        "inkling_inclusive_pct": shares(inclusive),
    }


# -- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--server", choices=["uvicorn", "granian", "both"], default="uvicorn")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds; 0 to skip")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
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
    if args.server == "both" and args.database_url:
        parser.error("--server both with --database-url would share one database; use --postgres")
    if args.rounds < 1 or args.connections < 1 or args.duration <= 0:
        parser.error("--rounds, --connections and --duration must be positive")
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
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="inkling-bench-")))
        if args.postgres:
            urls: list[str | None] = list(
                stack.enter_context(fresh_postgres(args.pg_admin_url, len(servers)))
            )
        else:
            urls = [args.database_url] * len(servers)
        report = measure(args, servers, urls, tmp)
    print(json.dumps(report))
    results = report.get("servers", [report])
    return 0 if all(r["correct"] for r in results) else 1


def measure(
    args: argparse.Namespace, servers: list[str], urls: list[str | None], tmp: Path
) -> dict[str, Any]:
    pairs: list[tuple[Target, Target]] = []
    for server, url in zip(servers, urls, strict=True):
        data_dir = tmp / f"data-{server}"
        data_dir.mkdir()
        env = _clean_env() | {
            "INKLING_DATA_DIR": str(data_dir),
            "INKLING_CONFIG": str(tmp / "no-such-inkling.toml"),
        }
        if url:
            env["INKLING_DATABASE_URL"] = url
        db_url = url or f"sqlite:///{(data_dir / 'inkling.db').resolve()}"
        inkling_port, bare_port = _free_port(), _free_port()
        inkling = Target(
            "inkling",
            server,
            inkling_port,
            _inkling_argv(server, inkling_port),
            env,
            tmp / f"inkling-{server}.log",
            database_url=db_url,
        )
        # The bare app under uvicorn is ``inkling serve`` with the app swapped: it opens (but
        # never uses) a store, so it gets its own data dir and never the database.
        bare_dir = tmp / f"bare-data-{server}"
        bare_env = {k: v for k, v in env.items() if k != "INKLING_DATABASE_URL"}
        bare_env["INKLING_DATA_DIR"] = str(bare_dir)
        bare_argv = _bare_argv(server, bare_port)
        bare = Target("bare", server, bare_port, bare_argv, bare_env, tmp / f"bare-{server}.log")
        pairs.append((inkling, bare))

    # One token per data dir (each has its own key); both servers of a pair get the same URL.
    paths = {server: f"/t/o/{_make_token(tmp / f'data-{server}')}.gif" for server in servers}
    baseline = {p[0].name: _count_events(p[0].database_url or "") for p in pairs}
    targets = [t for pair in pairs for t in pair]
    same: dict[str, bool] = {}
    profiles: dict[str, dict[str, Any]] = {}
    try:
        for target in targets:
            target.start(args.server_cpu)
        for target in targets:
            pid = target.wait_ready()
            progress(f"{target.name} ready on port {target.port} (pid {pid})")
        for inkling, bare in pairs:
            same[inkling.server] = check_same_response(inkling, bare, paths[inkling.server])
        if args.warmup > 0:
            for target in targets:
                target.extra.append(run_wrk(target, paths[target.server], args, args.warmup))
        for round_no in range(args.rounds):
            shift = round_no % len(targets)
            for target in targets[shift:] + targets[:shift]:
                result = run_wrk(target, paths[target.server], args, args.duration)
                target.runs.append(result)
                progress(
                    f"round {round_no + 1}/{args.rounds} {target.name:>16}: "
                    f"{result.rps:9.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms  cpu {result.server_cpu:.2f}"
                    f"  pg {result.postgres_cpu:.2f}  others {result.others_cpu or 0.0:.2f}"
                )
        if args.profile:
            for inkling, _ in pairs:
                progress(f"profiling {inkling.name} with py-spy for {args.duration:g} s")
                out = Path(args.profile).resolve()
                if len(pairs) > 1:
                    out = out.with_name(f"{out.stem}-{inkling.server}{out.suffix}")
                profiles[inkling.server] = profile(inkling, paths[inkling.server], args, out)
    finally:
        for target in targets:
            target.stop()
    results = []
    for inkling, bare in pairs:
        summary = summarise(args, inkling, bare, same[inkling.server], baseline[inkling.name])
        if inkling.server in profiles:
            summary["profile"] = profiles[inkling.server]
        results.append(summary)
    source = _source_state()
    if len(results) == 1:
        return results[0] | {"source": source}
    fastest = max(results, key=lambda r: r["inkling"]["rps"])
    return {
        "servers": results,
        "source": source,
        "fastest_for_inkling": fastest["server"],
        "fastest_inkling_rps": fastest["inkling"]["rps"],
        "fastest_inkling_p99_ms": fastest["inkling"]["p99_ms"],
    }


def summarise(
    args: argparse.Namespace, inkling: Target, bare: Target, same: bool, baseline: int
) -> dict[str, Any]:
    ink, base = median_round(inkling.runs), median_round(bare.runs)
    every_ink = inkling.runs + inkling.extra
    responses = sum(r.requests for r in every_ink) + inkling.checked_responses
    events = _count_events(inkling.database_url or "") - baseline
    durable = responses <= events <= responses + args.connections * len(every_ink)
    every = every_ink + bare.runs + bare.extra
    non_2xx = sum(r.non_2xx for r in every)
    socket_errors = sum(r.socket_errors for r in every)
    ratio = ink.rps / base.rps if base.rps else 0.0
    others = [r.others_cpu for r in inkling.runs + bare.runs if r.others_cpu is not None]
    clean_stop = not inkling.killed and inkling.exit_code in (0, -signal.SIGTERM)
    correct = durable and same and clean_stop and non_2xx == 0 and socket_errors == 0
    meets = correct and ratio >= TARGET_RATIO and ink.p99_ms <= TARGET_P99_MS
    url = inkling.database_url or ""
    return {
        "server": SERVER_LABELS[inkling.server],
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
        # uvicorn re-raises SIGTERM once it has shut down gracefully: -15 is a clean stop.
        "inkling_exit_code": inkling.exit_code,
        "inkling_stopped_cleanly": clean_stop,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "correct": correct,
        "targets": {"ratio": TARGET_RATIO, "p99_ms": TARGET_P99_MS},
        "meets_targets": meets,
    }


if __name__ == "__main__":
    sys.exit(main())
