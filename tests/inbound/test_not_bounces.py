"""Ordinary support mail (the instrumentation fixtures) is never taken for a bounce."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkling.inbound import parse_message

EML = sorted((Path(__file__).parent.parent / "fixtures" / "eml").glob("*.eml"))


@pytest.mark.parametrize("path", EML, ids=[p.name for p in EML])
def test_support_mail_is_not_a_report(path: Path) -> None:
    assert parse_message(path.read_bytes()).kind not in {"bounce", "mdn", "complaint", "delivered"}
