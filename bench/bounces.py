"""How far Inkling's bounce answers agree with sisimai's, and what the corpus labels keep.

    .venv/bin/python bench/bounces.py

Prints one JSON object: agreement with sisimai's stored answers (``reason``, ``class``:
hard exactly when sisimai's hardbounce, ``kind``: bounce or not as labelled) on the files
sisimai answers for, the corpus labels' recipients (exact sets) and ``final`` (not final
exactly when labelled temporary), and the parse time a message. sisimai is not run: its
answers are in tests/fixtures/inbound/sisimai_labels.json (``bench/sisimai_labels.py``).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.inbound

from tests.inbound.agreement import compare, sisimai_labels
from tests.inbound.conftest import BOUNCES, bounce_labels

from inkling.inbound import parse_message


def labelled() -> dict[str, Any]:
    """Recipients and final against the corpus labels (tests/inbound/test_corpus.py)."""
    found = {"bounce": 0, "recipients": 0, "final": 0, "failures": 0, "with_temporary": 0}
    labels = bounce_labels()
    for label in labels:
        parsed = parse_message((BOUNCES / label["file"]).read_bytes()).as_json()
        if not label["bounce"]:
            continue
        found["failures"] += 1
        bounce = parsed.get("bounce") or {}
        found["bounce"] += parsed["kind"] == "bounce"
        wanted = {a.lower() for a in label["recipients"]}
        found["recipients"] += {a.lower() for a in bounce.get("recipients", [])} == wanted
        if "temporary" in label:
            found["with_temporary"] += 1
            found["final"] += bounce.get("final") is not label["temporary"]
    return found


def parse_time() -> float:
    """Milliseconds a corpus message, best of three passes."""
    raws = [path.read_bytes() for path in sorted(BOUNCES.glob("*/*")) if path.suffix != ".json"]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for raw in raws:
            parse_message(raw)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / len(raws)


def main() -> None:
    agreement = compare()
    confusion = Counter(
        f"{(item.inkling.get('bounce') or {}).get('reason')}<-{item.sisimai['reason']}"
        for item in agreement.disagreements
        if not item.reason_agrees
    )
    out = {
        "sisimai": sisimai_labels()["sisimai"],
        "compared": agreement.compared,
        "agreement": {key: round(value, 3) for key, value in agreement.rates().items()},
        "counts": {
            "reason": agreement.reason,
            "class": agreement.klass,
            "kind": agreement.kind,
            "kind_labelled": agreement.kind_labelled,
        },
        "reason_disagreements": dict(confusion.most_common()),
        "labels": labelled(),
        "ms_per_message": round(parse_time(), 2),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
