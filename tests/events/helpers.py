"""Loading a journal into a store, as the running loader does, for tests."""

from __future__ import annotations

from pathlib import Path

from inkling.classify.batch import BatchJudge
from inkling.events.journal import JournalWriter
from inkling.events.loader import Loader
from inkling.store import Store
from inkling.tokens import TokenCodec


def load_journal(
    directory: Path,
    store: Store,
    codec: TokenCodec,
    judge: BatchJudge | None = None,
    *,
    retention_seconds: float | None = None,
) -> int:
    """Move everything in the journal at ``directory`` into ``store``; the hits moved.
    (No writer holds the journal now, so every segment counts as sealed.)"""
    loader = Loader(
        JournalWriter(directory), store.events, judge, codec, retention_seconds=retention_seconds
    )
    total = 0
    try:
        while moved := loader.run_once():
            total += moved
    finally:
        loader.close()
    return total
