"""How fast Inkling instruments HTML mail, next to pytracking, on the same messages.

Both sides do the whole job for each message: every link gets an encrypted click token
(Inkling: AES-256-GCM; pytracking: Fernet) and an open pixel is added (Inkling also adds
its hidden honeypot link, one more click token). pytracking parses
the HTML with lxml and serializes the tree again; Inkling splices bytes. The two run
interleaved, round after round, on the process's CPU time; each side's best round is
compared (noise only ever adds time, so the best round is the least disturbed one), and the
medians are printed beside them. Inkling's output is also checked for what
pytracking does not do: VML buttons tracked, and every byte outside the rewritten values
unchanged.

Inkling is measured twice: as above, and with the sensitive-content guard on, doing the
work ``instrument_message(..., guard=True)`` adds to each HTML part: the part read as text
in its encoding and scanned (``privacy.guard.scan_text``) before it is rewritten. Both
ratios are printed; the bar (8x) is for the one with the guard.

    python bench/instrument.py --corpus tests/fixtures/html [--rounds 7] [--repeat 20]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from pytracking import Configuration
from pytracking.html import adapt_html

from inkling.instrument.charsets import UTF8
from inkling.instrument.html import rewrite_html, tracking_tags
from inkling.instrument.links import MessageLinks
from inkling.privacy.guard import scan_text
from inkling.tokens import TokenCodec, new_message_id

BASE = "https://track.example.net"
VML_HREF = re.compile(rb"<v:(?:roundrect|rect)\b[^>]*\bhref=", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of *.html bodies")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus a round")
    args = parser.parse_args()

    files = sorted(args.corpus.glob("*.html"))
    if not files:
        sys.exit(f"no *.html files in {args.corpus}")
    codec = TokenCodec.for_data_dir(Path(tempfile.mkdtemp(prefix="inkling-bench-")))
    configuration = Configuration(
        base_open_tracking_url=f"{BASE}/o/",
        base_click_tracking_url=f"{BASE}/c/",
        encryption_bytestring_key=Fernet.generate_key(),
    )

    def inkling(html: bytes) -> bytes:
        links = MessageLinks(codec, BASE, new_message_id(), int(time.time()))
        return rewrite_html(html, "utf-8", links, pixel=tracking_tags(links)).html

    def guarded(html: bytes) -> bytes:
        if scan_text(UTF8.read(html), is_html=True):
            return html  # a message with a finding is handed back as it came
        return inkling(html)

    def pytracking(html: bytes) -> bytes:
        text: str = adapt_html(html, {"message": new_message_id()}, configuration=configuration)
        return text.encode("utf-8")

    # Compare on the messages both can handle; say which ones pytracking cannot.
    corpus, pytracking_failures = [], []
    for path in files:
        try:
            pytracking(path.read_bytes())
        except Exception as exc:  # noqa: BLE001 (whatever pytracking raises is reported)
            pytracking_failures.append(f"{path.name}: {type(exc).__name__}: {exc}")
        else:
            corpus.append(path.read_bytes())

    inkling_rates, guarded_rates, pytracking_rates = [], [], []
    for _ in range(args.rounds):
        inkling_rates.append(_rate(inkling, corpus, args.repeat))
        guarded_rates.append(_rate(guarded, corpus, args.repeat))
        pytracking_rates.append(_rate(pytracking, corpus, args.repeat))
    inkling_mps = max(inkling_rates)
    guarded_mps = max(guarded_rates)
    pytracking_mps = max(pytracking_rates)

    vml_in_corpus = sum(len(VML_HREF.findall(html)) for html in corpus)
    vml_to_track = sum(_expected_vml(path) for path in files if path.read_bytes() in corpus)
    report = {
        "corpus": str(args.corpus),
        "messages": len(corpus),
        "pytracking_failures": pytracking_failures,
        "bytes": sum(len(html) for html in corpus),
        "rounds": args.rounds,
        "inkling_messages_per_s": round(inkling_mps, 1),
        "inkling_with_guard_messages_per_s": round(guarded_mps, 1),
        "pytracking_messages_per_s": round(pytracking_mps, 1),
        "ratio": round(inkling_mps / pytracking_mps, 2),
        "median_ratio": round(
            statistics.median(inkling_rates) / statistics.median(pytracking_rates), 2
        ),
        "ratio_with_guard": round(guarded_mps / pytracking_mps, 2),
        "median_ratio_with_guard": round(
            statistics.median(guarded_rates) / statistics.median(pytracking_rates), 2
        ),
        "guard_us_per_message": round(1e6 / guarded_mps - 1e6 / inkling_mps, 1),
        "guard_findings": sum(bool(scan_text(UTF8.read(html), is_html=True)) for html in corpus),
        "target_ratio": 8.0,
        "vml_buttons_in_corpus": vml_in_corpus,
        "vml_buttons_to_track": vml_to_track,
        "vml_buttons_tracked": {
            "inkling": sum(_vml_tracked(inkling(html)) for html in corpus),
            "pytracking": sum(_vml_tracked(pytracking(html)) for html in corpus),
        },
        "inkling_byte_faithful": all(_faithful(codec, html) for html in corpus),
    }
    report["meets_target"] = report["ratio_with_guard"] >= 8.0 and report["inkling_byte_faithful"]
    print(json.dumps(report, indent=2))


def _rate(instrument: Callable[[bytes], bytes], corpus: list[bytes], repeat: int) -> float:
    """Messages per second of this process's CPU time (not wall time: on a shared machine a
    neighbour's load then slows neither side)."""
    start = time.process_time()
    for _ in range(repeat):
        for html in corpus:
            instrument(html)
    return len(corpus) * repeat / (time.process_time() - start)


def _expected_vml(path: Path) -> int:
    """VML buttons a fixture's sidecar says must be tracked (others are mailto: links,
    opted out or commented out); 0 when there is no sidecar."""
    sidecar = path.with_suffix(".links.json")
    if not sidecar.exists():
        return 0
    tracked = json.loads(sidecar.read_text())["tracked"]
    return sum(1 for link in tracked if link["tag"].startswith("v:"))


def _vml_tracked(output: bytes) -> int:
    return len(
        re.findall(rb"<v:(?:roundrect|rect)\b[^>]*\bhref=[\"']" + re.escape(BASE.encode()), output)
    )


class _MarkingLinks(MessageLinks):
    """Puts a numbered marker where a tracker URL would go and keeps the value it
    replaced, so the original can be rebuilt from the output."""

    def __init__(self, codec: TokenCodec) -> None:
        super().__init__(codec, BASE, new_message_id(), 0)
        self.replaced: list[str] = []

    def track_attribute(self, raw_value: str) -> str | None:
        if super().track_attribute(raw_value) is None:
            return None
        self.replaced.append(raw_value)
        return f"\x00{len(self.replaced) - 1}\x00"


def _faithful(codec: TokenCodec, html: bytes) -> bool:
    links = _MarkingLinks(codec)
    pixel = tracking_tags(links)
    output = rewrite_html(html, "utf-8", links, pixel=pixel).html.replace(pixel, b"", 1)
    rebuilt = re.sub(rb"\x00(\d+)\x00", lambda m: links.replaced[int(m[1])].encode(), output)
    return rebuilt == html


if __name__ == "__main__":
    main()
