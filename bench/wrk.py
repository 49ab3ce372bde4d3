"""wrk's side of the tracker benchmark: the command line, and what a run printed.

wrk is a closed loop: ``-c`` connections, each with one request in flight. With every
connection busy, latency is mostly queueing (about connections / throughput), so p99 moves
with requests/s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from procstat import TaskCounters

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
    server_tasks: TaskCounters | None = None  # the server's threads' counters over the run

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


def wrk_argv(
    url: str, *, threads: int, connections: int, seconds: float, script: Path | None
) -> list[str]:
    """``wrk --latency`` for ``seconds``; with ``script``, the requests come from it."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    return [*argv, url]


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
