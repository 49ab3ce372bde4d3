"""Judge the classifier on a generated support mix and say whether the targets hold.

    .venv/bin/python tests/classify/evaluate.py [--messages N] [--seed S] [--json]
                                                [--write FILE]

Prints the figures, per-agent rows and the worst confusions (with an example hit each);
``--json`` prints the same as one JSON object; ``--write`` also saves the labelled set as
JSONL (the input fields plus ``truth_verdict``, ``truth_agent``, ``truth_story``). Exits 1
when a target does not hold, so a script can use it as a gate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.classify.metrics import HUMAN, MACHINE, UNKNOWN, score, worst_confusions
from tests.classify.scenarios import LabelledHit, generate

DEFAULT_MESSAGES = 3000
DEFAULT_SEED = 20260822


def write_jsonl(labelled: list[LabelledHit], path: Path) -> None:
    """One hit a line, as ``inkling classify --jsonl`` reads it, plus the truth."""
    with path.open("w", encoding="utf-8") as out:
        for item in labelled:
            row = dict(item.hit)
            row |= {"truth_verdict": item.verdict, "truth_agent": item.agent}
            row["truth_story"] = item.story
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def judge(labelled: list[LabelledHit], messages: int, seed: int) -> dict[str, Any]:
    """Classify a labelled set and score it; the report includes the worst confusions."""
    from inkling.classify import classify_hits  # imported late: --write works without it

    started = time.perf_counter()
    predicted = classify_hits([item.hit for item in labelled])
    elapsed = time.perf_counter() - started
    report = score(labelled, predicted)
    report |= {"messages": messages, "seed": seed, "classify_seconds": round(elapsed, 3)}
    report["worst_confusions"] = worst_confusions(labelled, predicted)
    report["baselines"] = baselines(labelled)
    return report


#: What today's tools do, for comparison (research/signals.md): a SendGrid-style flag that
#: marks only Apple's privacy proxy, and a user-agent bot filter of the kind that
#: libraries ship (GoogleImageProxy and script/scanner names count as bots).
_BOT_WORDS = (
    "bot",
    "crawler",
    "spider",
    "googleimageproxy",
    "python",
    "curl",
    "java/",
    "okhttp",
    "go-http",
    "wget",
    "barracuda",
    "facebookexternalhit",
    "preview",
)


def _apple_flag(hit: dict[str, Any]) -> str:
    return MACHINE if hit.get("ua") == "Mozilla/5.0" else HUMAN


def _bot_filter(hit: dict[str, Any]) -> str:
    ua = (hit.get("ua") or "").lower()
    return MACHINE if not ua or any(word in ua for word in _BOT_WORDS) else HUMAN


def baselines(labelled: list[LabelledHit]) -> dict[str, dict[str, Any]]:
    """The four figures for each of today's approaches on the same hits."""
    result = {}
    for name, rule in (("apple_flag", _apple_flag), ("ua_bot_filter", _bot_filter)):
        predicted = [
            {"message": item.hit["message"], "verdict": rule(item.hit), "agent": None}
            for item in labelled
        ]
        report = score(labelled, predicted)
        result[name] = {k: row["value"] for k, row in report["targets"].items()}
    return result


def _pct(value: float | None) -> str:
    return "  n/a " if value is None else f"{value * 100:6.2f}%"


def _targets_table(report: dict[str, Any]) -> list[str]:
    lines = ["target                   value      limit   holds"]
    for name, row in report["targets"].items():
        sign = ">=" if row["at_least"] else "<="
        mark = "yes" if row["holds"] else "NO"
        limit = f"{row['limit'] * 100:g}%"
        lines.append(f"{name:<22} {_pct(row['value'])}  {sign} {limit:>5}   {mark}")
    return lines


def _agents_table(report: dict[str, Any]) -> list[str]:
    head = f"{'truth agent':<20}{'truth':>8}{'count':>7}{'machine':>9}{'human':>7}"
    head += f"{'unknown':>9}{'agent ok':>10}{'family ok':>11}  predicted agents"
    lines = [head]
    for agent, row in report["agents"].items():
        top = ", ".join(f"{a} {n}" for a, n in list(row["predicted_agents"].items())[:3])
        lines.append(
            f"{agent:<20}{row['truth_verdict']:>8}{row['count']:>7}{row[MACHINE]:>9}"
            f"{row[HUMAN]:>7}{row[UNKNOWN]:>9}{_pct(row['agent_accuracy']):>10}"
            f"{_pct(row['family_accuracy']):>11}  {top}"
        )
    return lines


def _baselines_table(report: dict[str, Any]) -> list[str]:
    names = list(report["targets"])
    lines = [f"{'approach':<16}" + "".join(f"{n:>22}" for n in names)]
    for approach, values in report["baselines"].items():
        lines.append(f"{approach:<16}" + "".join(f"{_pct(values[n]):>22}" for n in names))
    return lines


def _example(hit: dict[str, Any] | None) -> str:
    if hit is None:
        return ""
    after = hit["ts"] - hit["sent_at"]
    where = "honeypot" if hit["honeypot"] else f"link {hit['link']}/{hit['links_total']}"
    if hit["kind"] == "open":
        where = f"{hit['links_total']} links"
    extra = {k: v for k, v in hit["headers"].items() if "purpose" in k or k == "referer"}
    return (
        f"{hit['kind']} {hit['method']} +{after:.1f}s {where} ip={hit['ip']} "
        f"ua={hit['ua']!r}" + (f" headers={extra}" if extra else "")
    )


def _confusions(report: dict[str, Any]) -> list[str]:
    lines = []
    for n, row in enumerate(report["worst_confusions"], 1):
        lines.append(f"{n:>2}. {row['truth']} called {row['predicted']}: {row['count']} hits")
        lines.append(f"    stories: {row['stories']}")
        lines.append(f"    e.g. {_example(row['example'])}")
        lines.append(f"    reasons: {row['reasons']}")
    return lines or ["none"]


def render(report: dict[str, Any]) -> str:
    """The report as a table a person can read."""
    lines = [
        f"Inkling classifier on a generated support mix: {report['messages']} messages, "
        f"{report['hits']} hits (seed {report['seed']}), classified in "
        f"{report['classify_seconds']:.2f} s",
        f"truth: {report['truth_machine']} machine, {report['truth_human']} human; called: "
        f"{report['called_machine']} machine, {report['called_human']} human, "
        f"{report['called_unknown']} unknown",
        f"agent accuracy {_pct(report['agent_accuracy'])}, "
        f"family accuracy (scanner:* = scanner) {_pct(report['family_accuracy'])}",
        "",
        *_targets_table(report),
        "",
        *_agents_table(report),
        "",
        "today's tools on the same hits:",
        *_baselines_table(report),
        "",
        "worst confusions (severity x count):",
        *_confusions(report),
        "",
        "ALL TARGETS HOLD" if report["all_targets_hold"] else "SOME TARGETS DO NOT HOLD",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--write", type=Path, metavar="FILE", help="save the set as JSONL")
    args = parser.parse_args(argv)
    labelled = generate(args.messages, args.seed)
    if args.write:
        write_jsonl(labelled, args.write)
    report = judge(labelled, args.messages, args.seed)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0 if report["all_targets_hold"] else 1


if __name__ == "__main__":
    sys.exit(main())
