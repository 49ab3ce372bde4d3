"""The servers the tracker benchmark starts, stops and asks how they are.

Inkling is ``inkling serve`` (uvicorn, uvloop, httptools, no access log, one process); the
bare app is ``bench/bare_gif.py``, run as ``inkling serve`` with the app swapped, so it gets
the very same ``uvicorn.run``. Under granian both are imported by granian itself (Inkling
through :func:`inkling_app`, ``granian --factory servers:inkling_app``).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from wrk import WrkResult

if TYPE_CHECKING:
    from inkling.tracker.app import ASGIApp

BENCH_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def inkling_app() -> ASGIApp:
    """Inkling's ASGI app as ``inkling serve`` builds it (settings from ``INKLING_*``), for
    servers that import an app factory, e.g. ``granian --factory servers:inkling_app``:
    the node of ``inkling.root`` since the journal, ``build_app`` of ``inkling.server``
    before it (looked up by name, so this file works with both)."""
    from inkling.config import load_settings

    settings = load_settings()
    try:
        root = importlib.import_module("inkling.root")
    except ImportError:
        build_app = importlib.import_module("inkling.server").build_app
        services = importlib.import_module("inkling.services").Services.open(settings)
        return cast("ASGIApp", build_app(services))
    node = root.node(settings, root.open_services(settings))
    node.open()
    return cast("ASGIApp", node.app())


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fetch(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


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
    durability: str | None = None  # INKLING_DURABILITY given to it (None: not set)
    runs: list[WrkResult] = field(default_factory=list)
    extra: list[WrkResult] = field(default_factory=list)  # warm-up and profile runs
    checked_responses: int = 0
    readyz_calls: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    exit_code: int | None = None
    killed: bool = False

    @property
    def name(self) -> str:
        mode = f"[{self.durability}]" if self.durability else ""
        return f"{self.app}{mode}@{self.server}"

    def is_ready(self) -> bool:
        """Inkling answers its health check; the bare app answers the GIF even on ``/``
        (where Inkling says 404, so a bare server that is secretly Inkling never passes)."""
        if self.app == "inkling":
            return fetch(self.port, "/healthz")[0] == 200
        status, _, body = fetch(self.port, "/")
        return status == 200 and body.startswith(b"GIF89a")

    def start(self, pin: str | None, wrap: list[str] | None = None) -> None:
        """Start it (inside ``wrap``, e.g. valgrind, if given), pinned to CPU ``pin``."""
        argv = [*(wrap or []), *self.argv]
        argv = ["taskset", "-c", pin, *argv] if pin is not None else argv
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

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

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

    def journal(self) -> dict[str, Any] | None:
        """The server's ``/readyz`` answer, or None if it has none (the writer-thread server
        of before the journal answers 404: it records every hit before answering)."""
        if self.app != "inkling":
            return None
        self.readyz_calls += 1
        status, _, body = fetch(self.port, "/readyz")
        if status not in (200, 503):
            return None
        with contextlib.suppress(ValueError):
            answer = json.loads(body)
            if isinstance(answer, dict) and isinstance(answer.get("journal"), dict):
                return answer
        return None

    def wait_loaded(self, timeout: float = 600.0, poll: float = 0.25) -> dict[str, Any] | None:
        """Wait until the journal is fully loaded (``journal.backlog_events == 0``); returns
        the last ``/readyz`` answer, or None at once if the server has no journal."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.journal()
            if answer is None or answer["journal"].get("backlog_events") == 0:
                return answer
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: journal not loaded after {timeout:.0f} s")
            time.sleep(poll)

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

    @property
    def stopped_cleanly(self) -> bool:
        # uvicorn re-raises SIGTERM once it has shut down gracefully: -15 is a clean stop.
        return not self.killed and self.exit_code in (0, -signal.SIGTERM)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def inkling_argv(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        serve = ["serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
        # The entry script run by this Python, so a wrapper (valgrind) needs no shebang.
        return [sys.executable, str(BIN / "inkling"), *serve]
    return granian_argv(port, "servers:inkling_app", factory=True)


def bare_argv(server: str, port: int) -> list[str]:
    if server == "uvicorn":  # ``inkling serve`` itself, with the bare app swapped in
        script = str(BENCH_DIR / "bare_gif.py")
        serve = ["serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]
        return [sys.executable, script, *serve]
    return granian_argv(port, "bare_gif:app", factory=False)


def granian_argv(port: int, target: str, *, factory: bool) -> list[str]:
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
