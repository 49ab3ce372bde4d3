"""``inkling demo``: the demo data ``make run`` starts with, judged by the real code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow


def _reading(data_dir: Path, slug: str) -> dict[str, object]:
    done = inkling(data_dir, "reading", f"<{slug}@demo.inkling.example>", "--json")
    assert done.returncode == 0, done.stderr
    reading: dict[str, object] = json.loads(done.stdout)
    return reading


def test_demo_data_tells_five_stories_once(data_dir: Path) -> None:
    first = inkling(data_dir, "demo", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert b"5 support replies" in first.stderr
    again = inkling(data_dir, "demo", "--no-serve")
    assert again.returncode == 0 and b"already there" in again.stderr

    states = {
        slug: _reading(data_dir, slug)["state"]
        for slug in ("demo-refund", "demo-sso", "demo-password", "demo-invoice", "demo-vpn")
    }
    assert states == {
        "demo-refund": "clicked",
        "demo-sso": "replied",
        "demo-password": "opened",
        "demo-invoice": "bounced",
        "demo-vpn": "away",
    }
    sso = _reading(data_dir, "demo-sso")
    assert str(sso["sentence"]).startswith("The customer replied")
    assert sso["clicks"] == {"total": 4, "human": 0, "machine": 4, "unknown": 0}
