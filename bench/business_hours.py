"""How fast the business-hours clock answers, the way the triage queue asks it. (Not
named calendar.py: run as a script, that name would hide the standard library's calendar.)

The queue works out one due time per open ticket (``add_days`` from a send or a click) and
the playbook measures spans (``between``). This times, for a Berlin team with German
holidays, on instants spread over six weeks of 2026:

* ``cold_ms``: the first call on a fresh calendar (three years of intervals built);
* ``add_days``: 10,000 calls of ``add_days(t, 2)`` (best of ``--rounds``), as calls/s and
  as the milliseconds the queue would spend on 10,000 tickets;
* ``between``: 10,000 calls over spans of up to three weeks.

    .venv/bin/python bench/business_hours.py [--calls 10000] [--rounds 5]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

from inkling.playbook.calendar import BusinessCalendar

SEED = 20261207
START = 1_780_000_000.0  # late May 2026
SPREAD = 42 * 86_400.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(SEED)
    starts = [START + rng.uniform(0, SPREAD) for _ in range(args.calls)]
    spans = [rng.uniform(0, 21 * 86_400.0) for _ in range(args.calls)]

    began = time.perf_counter()
    calendar = BusinessCalendar("Europe/Berlin", holidays="DE")
    calendar.add_days(starts[0], 2)
    cold = time.perf_counter() - began

    def add_days() -> None:
        for start in starts:
            calendar.add_days(start, 2)

    def between() -> None:
        for start, span in zip(starts, spans, strict=True):
            calendar.between(start, start + span)

    result = {
        "calendar": repr(calendar),
        "calls": args.calls,
        "rounds": args.rounds,
        "cold_ms": round(cold * 1000, 2),
        "add_days": _timed(add_days, args.calls, args.rounds),
        "between": _timed(between, args.calls, args.rounds),
    }
    print(json.dumps(result, indent=2))


def _timed(job: Callable[[], None], calls: int, rounds: int) -> dict[str, float]:
    """The best of ``rounds`` runs of ``job`` (``calls`` calls each)."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - began)
    return {"calls_per_s": round(calls / best), "ms_for_all_calls": round(best * 1000, 2)}


if __name__ == "__main__":
    main()
