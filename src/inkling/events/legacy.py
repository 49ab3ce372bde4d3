"""Hits an older Inkling left in its disk spool (``spool.jsonl``), moved into the journal.

Before the journal, hits the database refused were appended to ``spool.jsonl`` in the data
dir (and moved aside to ``spool.draining`` while being drained). A node upgraded while its
spool held hits must not lose them: at start they are appended to the journal, which
loads them like any other, and the spool files are removed. The whole client address the
spool kept beside the truncated one is dropped on the way, never copied.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from inkling.events.journal import HitRecord, JournalWriter

log = logging.getLogger(__name__)

SPOOL_FILES = ("spool.draining", "spool.jsonl")  # oldest first
_HIT_KINDS = ("open", "click")


def adopt_spool(data_dir: Path, journal: JournalWriter) -> int:
    """Append the hits of an old spool in ``data_dir`` to ``journal`` and remove the
    spool; the number of hits moved. A line torn by a crash was never acknowledged and is
    skipped, as the old spool did."""
    moved = 0
    for name in SPOOL_FILES:
        path = data_dir / name
        if not path.is_file():
            continue
        records = [r for r in map(_record, path.read_text("utf-8", "replace").splitlines()) if r]
        if records:
            journal.append(records)
        path.unlink()
        moved += len(records)
    if moved:
        log.info("moved %d hits from an old spool into the journal", moved)
    return moved


def _record(line: str) -> HitRecord | None:
    try:
        data: Any = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in _HIT_KINDS:
        return None
    return (
        data["kind"],
        str(data.get("message", "")),
        float(data.get("ts", 0.0)),
        data.get("sent_at"),
        data.get("link"),
        str(data.get("method", "GET")),
        data.get("ip"),
        None,  # the network was not looked up; the truncated address is judged instead
        _headers(data),
    )


def _headers(data: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """The spooled user agent and evidence as the tracker's header pairs."""
    pairs = [(str(k).encode(), str(v).encode("latin-1", "replace")) for k, v in
             (data.get("headers") or {}).items()]  # fmt: skip
    if data.get("user_agent") is not None:
        pairs.insert(0, (b"user-agent", str(data["user_agent"]).encode("latin-1", "replace")))
    return pairs
