"""Is every parse and rewrite linear? Each path on a hostile input and on one 10x larger.

For each case the path runs on an input of size ``n`` and on the same input at ``10 n``,
on the process's CPU time (``time.process_time``); each size is timed over enough calls
to fill 50 ms and the best of ``--rounds`` rounds is kept (noise only ever adds time). The
ratio time(10 n) / time(n) is ~10 for linear work and ~100 for quadratic. A case passes
when the ratio is at most ``BOUND`` (15): that leaves half again for noise and for the
fixed costs that make linear code come out at 6-10, still passes n log n (~11-13 at these
sizes), and fails anything growing like n^1.2 or faster (10^1.2 = 15.8).

Paths and inputs:

* ``parse_message``: the worst case found for every inbound rule (``tests/inbound/
  hostile.py``: a long ``=3D`` line, unclosed tags and styles, space runs before
  addresses, thousands of addresses, unclosed encoded words, huge report fields, nested
  parts, ...);
* ``rewrite_text`` and ``instrument_message``: hostile outbound mail (a URL followed by
  ``)`` repeated, unclosed tags, comments and quotes, many links, long header lines,
  nested parts); with ``guard=True``, what the sensitive-content guard reads: unclosed
  ``<``, entities and tags between digit groups, endless groups of digits, hyphens,
  IBAN-like and capital runs;
* ``classify_lines``: long lines (user agents, header values, garbage, many hits).

Also reported: what the process hop of ``IsolatedParser`` costs per message, against
``parse_message`` in-process, on the inbound corpus.

    .venv/bin/python bench/linearity.py [--rounds 5] [--only NAME ...] [--no-isolation]

Prints one JSON object; exits 1 when a case fails (its ratio is over the bound, or it
raised).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.inbound.hostile

from tests.inbound.hostile import CASES as INBOUND

from inkling.classify import Classifier
from inkling.classify.lines import classify_lines
from inkling.inbound import parse_message
from inkling.inbound.isolation import IsolatedParser
from inkling.instrument import instrument_message
from inkling.instrument.links import MessageLinks
from inkling.instrument.text import rewrite_text
from inkling.tokens import TokenCodec, new_message_id

BOUND = 15.0
FILL = 0.05  # seconds of calls a timing round holds at the small size
BASE = "https://track.example.net"
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "inbound"


@dataclass(frozen=True)
class Case:
    path: str
    name: str
    n: int
    build: Callable[[int], Any]  # the input at size n
    run: Callable[[Any], object]  # the path on one input
    crosses: str = ""  # the size budget the input crosses at 10 n, on purpose


def inbound_cases() -> list[Case]:
    return [
        Case("parse_message", name, c.n, c.build, parse_message, c.crosses)
        for name, c in INBOUND.items()
    ]


def _links(codec: TokenCodec) -> MessageLinks:
    return MessageLinks(codec, BASE, new_message_id(), int(time.time()))


def text_cases(codec: TokenCodec) -> list[Case]:
    texts: dict[str, tuple[int, Callable[[int], str]]] = {
        "url_then_closing_parens": (10_000, lambda n: "see https://help.example/a" + ")" * n),
        "url_then_opening_parens": (10_000, lambda n: "https://help.example/" + "(" * n + " x"),
        "url_then_punctuation": (5_000, lambda n: "https://help.example/a" + ".,;:!?" * n),
        "url_of_balanced_parens": (5_000, lambda n: "https://help.example/" + "()" * n + ")"),
        "long_url": (20_000, lambda n: "https://help.example/" + "a" * n),
        "many_urls": (500, lambda n: " ".join(f"https://help.example/p{i}" for i in range(n))),
        "schemes_glued": (2_000, lambda n: "http://" * n),
        "space_run_before_url": (20_000, lambda n: " " * n + "https://help.example/"),
    }
    return [
        Case("rewrite_text", name, n, build, lambda text: rewrite_text(text, _links(codec)))
        for name, (n, build) in texts.items()
    ]


HEADERS = (
    b"From: Sam <sam@help.example>\r\nTo: ana@customer.example\r\n"
    b"Subject: Your refund\r\nMessage-ID: <m1@help.example>\r\nMIME-Version: 1.0\r\n"
)


def _html(body: bytes) -> bytes:
    return HEADERS + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body + b"\r\n"


def _plain(body: bytes) -> bytes:
    return HEADERS + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n"


def _nested(n: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(n)
    )
    closing = b"".join(b"\r\n--b%d--" % i for i in reversed(range(n)))
    leaf = b'Content-Type: text/html\r\n\r\n<a href="https://help.example/a">a</a>'
    return HEADERS + opening + leaf + closing + b"\r\n"


def message_cases(codec: TokenCodec) -> list[Case]:
    link = b'<a href="https://help.example/a">read</a>'
    mails: dict[str, tuple[int, Callable[[int], bytes]]] = {
        "text_url_then_closing_parens": (
            10_000,
            lambda n: _plain(b"see https://help.example/a" + b")" * n),
        ),
        "html_unclosed_lt": (5_000, lambda n: _html(link + b"<" * n)),
        "html_unclosed_a_tags": (2_000, lambda n: _html(link + b"<a href=x " * n)),
        "html_unclosed_quote": (10_000, lambda n: _html(link + b'<a href="' + b"x" * n)),
        "html_unclosed_comment": (2_000, lambda n: _html(link + b"<!--" + b"<a href=x>" * n)),
        "html_conditional_comments": (500, lambda n: _html(b"<!--[if mso]>" * n + link)),
        "html_many_attributes": (2_000, lambda n: _html(b"<a " + b"x=y " * n + b'href="h">')),
        "html_many_links": (300, lambda n: _html(link * n)),
        "html_long_attribute": (20_000, lambda n: _html(b'<a title="' + b"t" * n + b'" href=h>')),
        "html_unclosed_style": (2_000, lambda n: _html(link + b"<style>" * n)),
        "html_qp_equals_line": (
            5_000,
            lambda n: (
                HEADERS + b"Content-Type: text/html\r\nContent-Transfer-Encoding: "
                b"quoted-printable\r\n\r\n" + link + b"=3D" * n + b"\r\n"
            ),
        ),
        "nested_parts": (6, _nested),
        "long_header_line": (
            5_000,
            lambda n: (
                HEADERS + b"X-Long: " + b"word " * n + b"\r\nContent-Type: text/html\r\n\r\n" + link
            ),
        ),
        "many_headers": (
            1_000,
            lambda n: HEADERS + b"X-A: b\r\n" * n + b"Content-Type: text/html\r\n\r\n" + link,
        ),
    }

    def run(raw: bytes) -> object:
        return instrument_message(
            raw, codec=codec, base_url=BASE, message=new_message_id(), sent_at=int(time.time())
        )

    return [Case("instrument_message", name, n, build, run) for name, (n, build) in mails.items()]


def guard_cases(codec: TokenCodec) -> list[Case]:
    """The sensitive-content guard (``instrument_message(guard=True)``) on what could make
    its reading of a part as text, or its detectors, slower than linear."""
    link = b'<a href="https://help.example/a">read</a>'
    mails: dict[str, tuple[int, Callable[[int], bytes]]] = {
        "guard_html_unclosed_lt": (5_000, lambda n: _html(link + b"<" * n)),
        "guard_html_unclosed_lt_words": (5_000, lambda n: _html(link + b"< diagnosis " * n)),
        "guard_html_entities": (5_000, lambda n: _html(link + b"4111&nbsp;" * n)),
        "guard_html_digit_groups": (5_000, lambda n: _html(link + b"<b>4111</b> " * n)),
        "guard_text_digit_groups": (5_000, lambda n: _plain(b"4111 " * n)),
        "guard_text_hyphen_groups": (5_000, lambda n: _plain(b"123-45-" * n)),
        "guard_text_iban_like": (5_000, lambda n: _plain(b"DE89 " + b"3704 " * n)),
        "guard_text_capitals": (10_000, lambda n: _plain(b"AB12 " * n)),
    }

    def run(raw: bytes) -> object:
        return instrument_message(
            raw,
            codec=codec,
            base_url=BASE,
            message=new_message_id(),
            sent_at=int(time.time()),
            guard=True,
        )

    return [Case("instrument_message", name, n, build, run) for name, (n, build) in mails.items()]


def _hit(**fields: object) -> str:
    hit: dict[str, object] = {"message": "m1", "kind": "open", "ts": 1_700_000_000}
    hit.update(fields)
    return json.dumps(hit)


def classify_cases() -> list[Case]:
    classifier = Classifier()
    lines: dict[str, tuple[int, Callable[[int], list[str]]]] = {
        "long_user_agent": (5_000, lambda n: [_hit(ua="Mozilla/5.0 (" + "a; " * n + ")")]),
        "user_agent_of_parens": (5_000, lambda n: [_hit(ua="(" * n)]),
        "user_agent_of_slashes": (5_000, lambda n: [_hit(ua="a/1 " * n)]),
        "space_run_user_agent": (20_000, lambda n: [_hit(ua=" " * n + "Mozilla/5.0")]),
        "long_header_value": (5_000, lambda n: [_hit(headers={"Via": "1.1 proxy " * n})]),
        "many_headers": (1_000, lambda n: [_hit(headers={f"X-{i}": "v" for i in range(n)})]),
        "long_ip": (5_000, lambda n: [_hit(ip="1." * n)]),
        "garbage_line": (20_000, lambda n: ["x" * n]),
        "deeply_nested_json": (20_000, lambda n: ["[" * n]),
        "many_hits_one_message": (
            300,
            lambda n: [
                _hit(ts=1_700_000_000 + i, ip=f"10.0.{i // 250}.{i % 250}") for i in range(n)
            ],
        ),
    }

    def run(batch: list[str]) -> object:
        return list(classify_lines(batch, classifier))

    return [Case("classify_lines", name, n, build, run) for name, (n, build) in lines.items()]


def _per_call(run: Callable[[Any], object], given: Any, calls: int, rounds: int) -> float:
    """Best CPU seconds per call over ``rounds`` rounds of ``calls`` calls (fewer rounds
    once a size has taken 5 s: a quadratic case at 10x can take minutes)."""
    best = float("inf")
    spent = 0.0
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls):
            run(given)
        took = time.process_time() - start
        best = min(best, took / calls)
        spent += took
        if spent > 5.0:
            break
    return best


def measure(case: Case, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"path": case.path, "case": case.name, "n": case.n}
    if case.crosses:
        out["crosses_budget"] = case.crosses
    try:
        small, large = case.build(case.n), case.build(10 * case.n)
        case.run(small)  # warm up: tables compiled, caches filled
        start = time.process_time()
        case.run(small)
        once = max(time.process_time() - start, 1e-6)
        calls = max(1, int(FILL / once))
        t_small = _per_call(case.run, small, calls, rounds)
        t_large = _per_call(case.run, large, max(1, calls // 10), rounds)
    except Exception as exc:  # noqa: BLE001 (a path that raises on hostile input fails its case)
        out.update(error=f"{type(exc).__name__}: {exc}"[:300], passed=False)
        return out
    ratio = t_large / max(t_small, 1e-9)
    out.update(
        size=[_size(small), _size(large)],
        ms=[round(t_small * 1000, 3), round(t_large * 1000, 3)],
        ratio=round(ratio, 1),
        passed=ratio <= BOUND,
    )
    return out


def _size(given: Any) -> int:
    """Characters (or bytes) of an input; of all its lines for a batch."""
    if isinstance(given, list):
        return sum(len(line) for line in given)
    return len(given)


def isolation_cost(rounds: int) -> dict[str, Any]:
    """Per message on the inbound corpus: wall time and the caller's CPU time, in-process
    against ``IsolatedParser`` (whose worker is warm)."""
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in {".json", ".md"})
    raws = [p.read_bytes() for p in files]
    with IsolatedParser() as parser:
        started = time.perf_counter()
        parser.parse(raws[0])
        first = time.perf_counter() - started
        same = all(parser.parse(raw) == parse_message(raw) for raw in raws)
        wall: dict[str, list[float]] = {"in_process": [], "isolated": []}
        cpu: dict[str, list[float]] = {"in_process": [], "isolated": []}
        for _ in range(rounds):
            for name, parse in (("in_process", parse_message), ("isolated", parser.parse)):
                w, c = time.perf_counter(), time.process_time()
                for raw in raws:
                    parse(raw)
                wall[name].append((time.perf_counter() - w) / len(raws))
                cpu[name].append((time.process_time() - c) / len(raws))
        tiny = b"In-Reply-To: <a@help.example>\r\n\r\nthanks\r\n"
        trips: list[float] = []
        for _ in range(rounds):
            w = time.perf_counter()
            for _ in range(200):
                parser.parse(tiny)
            trips.append((time.perf_counter() - w) / 200)
    hop = statistics.median(wall["isolated"]) - statistics.median(wall["in_process"])

    def ms(values: list[float]) -> dict[str, float]:
        return {
            "best": round(min(values) * 1000, 3),
            "median": round(statistics.median(values) * 1000, 3),
        }

    return {
        "messages": len(raws),
        "same_answers": same,
        "first_message_ms (worker start)": round(first * 1000, 1),
        "wall_ms_per_message": {k: ms(v) for k, v in wall.items()},
        "caller_cpu_ms_per_message": {k: ms(v) for k, v in cpu.items()},
        "hop_ms_per_message (median wall, isolated - in_process)": round(hop * 1000, 3),
        "round_trip_ms (a 40-byte reply, wall)": ms(trips),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[], help="case or path names to run")
    parser.add_argument("--no-isolation", action="store_true", help="skip the process-hop cost")
    args = parser.parse_args()

    codec = TokenCodec.for_data_dir(Path(tempfile.mkdtemp(prefix="inkling-linearity-")))
    cases = (
        inbound_cases()
        + text_cases(codec)
        + message_cases(codec)
        + guard_cases(codec)
        + classify_cases()
    )
    if args.only:
        cases = [c for c in cases if c.name in args.only or c.path in args.only]
    results = []
    for case in cases:
        results.append(measure(case, args.rounds))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # progress
    failed = [f"{r['path']}:{r['case']}" for r in results if not r["passed"]]
    report: dict[str, Any] = {"bound": BOUND, "cases": results, "failed": failed}
    if not args.no_isolation:
        report["isolation"] = isolation_cost(args.rounds)
    print(json.dumps(report, indent=2))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
