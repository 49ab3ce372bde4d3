"""Run ``inkling serve`` as a real process for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

INKLING = Path(sys.executable).parent / "inkling"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        database_url: str | None = None,
        *,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        env = {
            **os.environ,
            "INKLING_DATA_DIR": str(data_dir),
            "INKLING_BASE_URL": self.url,
            **(env or {}),
        }
        if database_url:
            env["INKLING_DATABASE_URL"] = database_url
        self.log = log or data_dir / "serve.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(INKLING),
                    "serve",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    *args,
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"inkling serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError("inkling serve did not come up")

    def readiness(self) -> dict[str, object]:
        """What ``/readyz`` says (its JSON, whatever its status)."""
        body: dict[str, object] = httpx.get(f"{self.url}/readyz", timeout=5).json()
        return body

    def wait_loaded(self, timeout: float = 30.0) -> None:
        """Wait until the loader has moved every recorded hit into the database."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self.readiness()
            journal, database = ready["journal"], ready["database"]
            assert isinstance(journal, dict) and isinstance(database, dict)
            if journal["backlog_events"] == 0 and database["reachable"]:
                return
            time.sleep(0.05)
        raise TimeoutError(f"the journal was not loaded in {timeout} s: {self.readiness()}")

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything."""
        self.process.kill()
        self.process.wait(10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill()
