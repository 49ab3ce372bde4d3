"""How fast and how right Inkling reads inbound mail, over the labelled corpora.

Speed: every corpus file is parsed ``--repeat`` times a round, for ``--rounds`` rounds, on
the process's CPU time; the median round gives messages per second (and the best round is
printed beside it). Accuracy, on the labelled real bounces (flufl.bounce's 101 and Delta
Chat's 8 NDNs) and the real Exchange read receipt:

* bounce detection: labelled failures parsed as ``bounce`` (and the relayed DSN as not);
* recipients: labelled failed addresses found among the bounce's recipients (and how many
  reported addresses the labels do not list: precision, roughly);
* temporary/permanent: ``soft`` for labelled temporary failures, ``hard`` for the others;
* status present and plausible: an RFC 3463 failure code (4/5.x.y), and separately one
  whose class digit agrees with hard (5) or soft (4);
* Message-ID matched: ``in_reply_to`` equals the labelled original Message-ID.

    python bench/parse.py [--fixtures tests/fixtures/inbound] [--rounds 7] [--repeat 5]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from inkling.inbound import parse_message

PLAUSIBLE = re.compile(r"[45]\.[0-7]\.\d{1,3}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=Path("tests/fixtures/inbound"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the corpus a round")
    args = parser.parse_args()

    files = sorted(
        p for p in args.fixtures.rglob("*") if p.is_file() and p.suffix not in {".json", ".md"}
    )
    files = [p for p in files if not p.name.startswith(".")]
    raws = [p.read_bytes() for p in files]
    print(
        json.dumps(
            {
                "corpus": {"files": len(raws), "bytes": sum(len(r) for r in raws)},
                "speed": _speed(raws, args.rounds, args.repeat),
                "accuracy": _accuracy(args.fixtures),
            },
            indent=2,
        )
    )


def _speed(raws: list[bytes], rounds: int, repeat: int) -> dict[str, float]:
    for raw in raws:  # warm up: rule tables compiled, imports done
        parse_message(raw)
    per_round: list[float] = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(repeat):
            for raw in raws:
                parse_message(raw)
        per_round.append(time.process_time() - start)
    count = len(raws) * repeat
    median = statistics.median(per_round)
    return {
        "messages_per_second_median": round(count / median),
        "messages_per_second_best": round(count / min(per_round)),
        "ms_per_message_median": round(median / count * 1000, 3),
        "slowest_file_ms": round(max(_one(raw) for raw in raws) * 1000, 3),
    }


def _one(raw: bytes) -> float:
    start = time.process_time()
    for _ in range(5):
        parse_message(raw)
    return (time.process_time() - start) / 5


def _accuracy(root: Path) -> dict[str, Any]:
    bounces = root / "bounces"
    labels: list[dict[str, Any]] = json.loads((bounces / "labels.json").read_text())
    labels += json.loads((bounces / "ndn" / "labels.json").read_text())
    count = {k: 0 for k in ("detected", "recipients", "class", "plausible", "agrees", "ids")}
    total = {k: 0 for k in count}
    wanted_recipients = found_recipients = extra_recipients = 0
    misses: list[str] = []
    for label in labels:
        parsed = parse_message((bounces / label["file"]).read_bytes()).as_json()
        bounce = parsed.get("bounce") or {}
        total["detected"] += 1
        if (parsed["kind"] == "bounce") == label["bounce"]:
            count["detected"] += 1
        else:
            misses.append(f"{label['file']}: kind {parsed['kind']}")
        if "original_message_id" in label:
            total["ids"] += 1
            if parsed.get("in_reply_to") == label["original_message_id"]:
                count["ids"] += 1
            else:
                misses.append(f"{label['file']}: Message-ID {parsed.get('in_reply_to')}")
        if not label["bounce"]:
            continue
        got = {a.lower() for a in bounce.get("recipients", [])}
        wanted = {a.lower() for a in label["recipients"]}
        wanted_recipients += len(wanted)
        found_recipients += len(wanted & got)
        extra_recipients += len(got - wanted)
        total["recipients"] += 1
        if wanted <= got:
            count["recipients"] += 1
        else:
            misses.append(f"{label['file']}: missing {sorted(wanted - got)}")
        if "temporary" in label:
            total["class"] += 1
            if bounce.get("class") == ("soft" if label["temporary"] else "hard"):
                count["class"] += 1
            else:
                misses.append(f"{label['file']}: class {bounce.get('class')}")
        status = str(bounce.get("status", ""))
        total["plausible"] += 1
        total["agrees"] += 1
        if PLAUSIBLE.fullmatch(status):
            count["plausible"] += 1
            if status[0] == ("5" if bounce.get("class") == "hard" else "4"):
                count["agrees"] += 1
    mdn = _mdn(root / "mdn")
    return {
        "labelled_files": len(labels),
        "bounce_detection": _rate(count["detected"], total["detected"]),
        "all_recipients_found": _rate(count["recipients"], total["recipients"]),
        "recipients_found": _rate(found_recipients, wanted_recipients),
        "recipients_reported_but_not_labelled": extra_recipients,
        "temporary_permanent_right": _rate(count["class"], total["class"]),
        "status_present_and_plausible": _rate(count["plausible"], total["plausible"]),
        "status_class_agrees": _rate(count["agrees"], total["agrees"]),
        "message_id_matched": _rate(count["ids"], total["ids"]),
        "mdn_right": mdn,
        "misses": misses,
    }


def _mdn(folder: Path) -> bool:
    labels: list[dict[str, Any]] = json.loads((folder / "labels.json").read_text())
    right = True
    for label in labels:
        parsed = parse_message((folder / label["file"]).read_bytes())
        original = (folder / label["answers"]).read_bytes()
        match = re.search(rb"^Message-ID:\s*(<[^>]+>)", original, re.IGNORECASE | re.MULTILINE)
        right &= (
            parsed.kind == label["kind"]
            and parsed.mdn is not None
            and parsed.mdn.disposition == label["disposition"]
            and parsed.mdn.automatic == label["automatic"]
            and match is not None
            and parsed.in_reply_to == match.group(1).decode()
        )
    return right


def _rate(hits: int, total: int) -> dict[str, float | int]:
    return {"right": hits, "of": total, "percent": round(100 * hits / total, 1) if total else 0.0}


if __name__ == "__main__":
    main()
