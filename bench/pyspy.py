"""Where a server's time goes, sampled by py-spy (``bench/tracker.py --profile FILE``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from servers import BIN


def record(pid: int, seconds: float, out: Path, *, gil: bool, load: Callable[[], None]) -> None:
    """Sample ``pid`` (and its children) into ``out`` (collapsed stacks) while ``load``
    runs; ``gil`` samples only the thread holding the GIL."""
    py_spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if py_spy is None:
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
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
            *(["--gil"] if gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    load()
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")


def summarise(path: Path, top: int = 15) -> dict[str, Any]:
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
