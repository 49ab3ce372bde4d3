"""Loader benchmark: the deferred work of every hit, apart from the server.

A journal is filled with realistic hit records (the traffic of ``bench/traffic.py``:
10,000 tokens of 2,000 messages, a browser's or Outlook's headers), then moved into a
fresh database by the real loader with the real judge, in the batches a loaded node sees.
Reported per hit, on the process's CPU time (best of ``--rounds``): the whole pass, and the
stages timed apart (decode, judge, store). ``--profile`` prints cProfile's top functions.

    .venv/bin/python bench/loader.py [--hits 40000] [--batch 4096] [--postgres]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from inkling.classify import Classifier
from inkling.classify.batch import BatchJudge
from inkling.collector import tune_collector
from inkling.events import loader as loader_module
from inkling.events.journal import JournalWriter
from inkling.events.loader import Loader
from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/154.0.0.0 Safari/537.36"
)
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
HEADERS = [
    (b"accept", b"image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (b"sec-fetch-dest", b"image"),
    (b"sec-fetch-mode", b"no-cors"),
    (b"sec-fetch-site", b"cross-site"),
]


def records(hits: int, codec: TokenCodec, seed: int = 7) -> list[tuple[Any, ...]]:
    """Hit records as the tracker writes them: a pixel hit with its open token unchecked
    (the loader checks it), a click with the message its token named."""
    rng = random.Random(seed)
    now = time.time()
    sent = int(now) - 3600
    messages = [new_message_id() for _ in range(2000)]
    pixels = {m: codec.open_token(m, sent) for m in messages}
    out = []
    for n in range(hits):
        click = rng.random() < 0.2
        message = rng.choice(messages)
        ua = CHROME if rng.random() < 0.5 else OUTLOOK
        out.append(
            (
                "click" if click else "pixel",
                message if click else pixels[message],
                now + n * 0.001,
                sent if click else 0,
                rng.randrange(3) if click else None,
                "GET",
                f"81.2.{rng.randrange(256)}.0",
                "",
                _fresh([(b"user-agent", ua.encode()), *HEADERS]),
            )
        )
    return out


def _fresh(pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Copies, as a server parses them anew for every request (marshal shares only the
    very same object, so shared constants here would flatter its frames)."""
    return [(bytes(memoryview(name)), bytes(memoryview(value))) for name, value in pairs]


def fill(directory: Path, hits: list[tuple[Any, ...]], frame: int = 64) -> None:
    journal = JournalWriter(directory)
    journal.open()
    for start in range(0, len(hits), frame):
        journal.append(hits[start : start + frame])
    journal.close()


def one_round(
    hits: list[tuple[Any, ...]],
    codec: TokenCodec,
    batch: int,
    url: str,
    profile: bool,
    judge: bool = True,
) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="inkling-loader-"))
    try:
        fill(work / "journal", hits)
        store = Store(url or f"sqlite:///{work / 'inkling.db'}")
        store.database.ensure_schema()
        tune_collector()  # as a node does at start
        judging = BatchJudge(Classifier()) if judge else None
        loader = Loader(JournalWriter(work / "journal"), store.events, judging, codec, batch=batch)
        stages = _time_stages()
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        moved = 0
        while n := loader.run_once():
            moved += n
        if profiler:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        spent = time.process_time() - started
        loader.close()
        assert moved == len(hits) == store.events.count(), (moved, len(hits))
        store.close()
        return {
            "us_per_hit": spent / moved * 1e6,
            **{k: v / moved * 1e6 for k, v in stages.items()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _time_stages() -> dict[str, float]:
    """Wrap the loader's stages to time them (decode, judge, store)."""
    stages = {"decode_us": 0.0, "judge_us": 0.0, "store_us": 0.0}

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                stages[name] += time.process_time() - start

        return wrapper

    loader_module._decode = timed("decode_us", loader_module._decode)
    BatchJudge.judge = timed("judge_us", BatchJudge.judge)  # type: ignore[method-assign]
    from inkling.store import events as store_events

    store_events.EventLoader.load = timed("store_us", store_events.EventLoader.load)  # type: ignore[method-assign]
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-judge", action="store_true", help="load without judging")
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp(prefix="inkling-keys-"))
    codec = TokenCodec.for_data_dir(keys)
    hits = records(args.hits, codec)
    results = [
        one_round(
            hits, codec, args.batch, args.database_url, args.profile and r == 0, not args.no_judge
        )
        for r in range(args.rounds)
    ]
    shutil.rmtree(keys, ignore_errors=True)
    best = min(results, key=lambda r: r["us_per_hit"])
    print(
        json.dumps(
            {
                "hits": args.hits,
                "batch": args.batch,
                "best": {k: round(v, 2) for k, v in best.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
