"""Verdict lag: how long after a hit its verdict is in the database, at a steady load.

A fresh ``inkling serve`` (SQLite, or ``--database-url``) gets pixel and link hits at
``--rate`` hits per second for ``--duration`` seconds, from a few keep-alive connections
with a browser's headers, while ``/readyz`` is read every 0.25 s: ``oldest_age_s`` (the
oldest hit not in the database yet: how far the loader is behind) and ``verdict_lag_s``
(hit to stored verdict, for the last batch loaded). One JSON object on stdout: the median
and the worst of each, and the rate reached.

    .venv/bin/python bench/lag.py [--rate 1000] [--duration 20] [--durability process]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/154.0.0.0 Safari/537.36"
)
HEADERS = {
    "User-Agent": CHROME,
    "Accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
    "Sec-Fetch-Dest": "image",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Site": "cross-site",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def paths(data_dir: Path, count: int = 2000) -> list[str]:
    from inkling.tokens import TokenCodec, new_message_id

    codec = TokenCodec.for_data_dir(data_dir)
    sent = int(time.time()) - 3600
    out = []
    for n in range(count):
        message = new_message_id()
        if n % 5 == 0:
            out.append("/t/c/" + codec.click_token(message, 0, sent, "https://help.example/a"))
        else:
            out.append(f"/t/o/{codec.open_token(message, sent)}.gif")
    return out


def send(port: int, targets: list[str], rate: float, until: float, sent: list[int]) -> None:
    """Hits at ``rate`` a second on one keep-alive connection, paced by the clock."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start, n = time.monotonic(), 0
    while (now := time.monotonic()) < until:
        due = start + n / rate
        if due > now:
            time.sleep(due - now)
        connection.request("GET", targets[n % len(targets)], headers=HEADERS)
        connection.getresponse().read()
        n += 1
    sent.append(n)
    connection.close()


def readiness(port: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/readyz")
    body: dict[str, Any] = json.loads(connection.getresponse().read())
    connection.close()
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="hits per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--durability", choices=("process", "power"), default="process")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="inkling-lag-"))
    port = free_port()
    env = {
        **os.environ,
        "INKLING_DATA_DIR": str(work / "data"),
        "INKLING_DURABILITY": args.durability,
        "INKLING_CONFIG": str(work / "inkling.toml"),
    }
    (work / "inkling.toml").write_text("")
    if args.database_url:
        env["INKLING_DATABASE_URL"] = args.database_url
    targets = paths(work / "data")
    server = subprocess.Popen(
        [str(BIN / "inkling"), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                readiness(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        until = time.monotonic() + args.duration
        sent: list[int] = []
        senders = [
            threading.Thread(
                target=send, args=(port, targets, args.rate / args.connections, until, sent)
            )
            for _ in range(args.connections)
        ]
        for thread in senders:
            thread.start()
        behind: list[float] = []
        lags: list[float] = []
        while time.monotonic() < until:
            journal = readiness(port)["journal"]
            behind.append(journal["oldest_age_s"] or 0.0)
            if journal["verdict_lag_s"] is not None:
                lags.append(journal["verdict_lag_s"])
            time.sleep(0.25)
        for thread in senders:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "rate_asked": args.rate,
        "rate_reached": round(sum(sent) / args.duration, 1),
        "durability": args.durability,
        "oldest_unloaded_s": {
            "median": round(statistics.median(behind), 3),
            "max": round(max(behind), 3),
        },
        "verdict_lag_s": {"median": round(statistics.median(lags), 3), "max": round(max(lags), 3)},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
