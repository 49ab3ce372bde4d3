"""Paths and labels of the inbound fixtures (copied from the shared corpus, never read there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

INBOUND = Path(__file__).parent.parent / "fixtures" / "inbound"
BOUNCES = INBOUND / "bounces"
WRITTEN = INBOUND / "written"
MDN = INBOUND / "mdn"


def bounce_labels() -> list[dict[str, Any]]:
    """Every labelled bounce corpus file: flufl.bounce's messages and Delta Chat's NDNs."""
    labels: list[dict[str, Any]] = json.loads((BOUNCES / "labels.json").read_text())
    labels += json.loads((BOUNCES / "ndn" / "labels.json").read_text())
    return labels
