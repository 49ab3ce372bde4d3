"""How many hits a second Inkling classifies, the way ``inkling classify`` does.

The hits are the labelled support mix of ``tests/classify/scenarios.py`` (real user
agents, published and residential addresses, scanner bursts, honeypot hits), generated
with a fixed seed, written as JSON lines, and then:

* ``in_process``: JSON lines parsed, hits judged (per hit and per message), verdict lines
  written: the CPU time of the whole job, best and median of ``--rounds`` rounds, fresh
  classifier each round (so the user-agent and address caches start cold);
* ``cli``: ``inkling classify --jsonl FILE`` as a user runs it, wall time including the
  interpreter's start-up, once.

    .venv/bin/python bench/classify.py [--messages 35000] [--rounds 5]

Prints one JSON object. About 35,000 messages make about 100,000 hits.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.classify

from tests.classify.scenarios import generate

from inkling.classify import Classifier
from inkling.classify.lines import classify_lines

SEED = 20261127


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=35_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    lines = [json.dumps(item.hit) for item in generate(args.messages, SEED)]
    seconds = [_round(lines) for _ in range(args.rounds)]
    best, median = min(seconds), statistics.median(seconds)
    result = {
        "hits": len(lines),
        "messages": args.messages,
        "in_process": {
            "hits_per_second_best": round(len(lines) / best),
            "hits_per_second_median": round(len(lines) / median),
            "seconds_best": round(best, 3),
            "seconds_median": round(median, 3),
            "rounds": args.rounds,
        },
        "cli": _cli(lines),
    }
    print(json.dumps(result, indent=2))


def _round(lines: list[str]) -> float:
    out = io.StringIO()
    started = time.process_time()
    for verdict in classify_lines(lines, Classifier()):
        out.write(json.dumps(verdict) + "\n")
    return time.process_time() - started


def _cli(lines: list[str]) -> dict[str, float | int]:
    inkling = Path(sys.executable).parent / "inkling"
    with tempfile.TemporaryDirectory() as scratch:
        hits = Path(scratch) / "hits.jsonl"
        hits.write_text("\n".join(lines) + "\n")
        env = {"INKLING_DATA_DIR": str(Path(scratch) / "data"), "PATH": "/usr/bin:/bin"}
        started = time.perf_counter()
        done = subprocess.run(
            [str(inkling), "classify", "--jsonl", str(hits)],
            capture_output=True,
            env=env,
            check=True,
        )
        wall = time.perf_counter() - started
    answered = done.stdout.count(b"\n")
    return {"seconds_wall": round(wall, 3), "lines_out": answered, "hits": len(lines)}


if __name__ == "__main__":
    main()
