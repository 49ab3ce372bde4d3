"""The Signals page (stub: built out in issue 11)."""

from __future__ import annotations

from dataclasses import dataclass

from inkling.web.report_choice import ReportChoice
from inkling.web.sources import Sources


@dataclass(frozen=True, slots=True)
class SignalsPage:
    choice: ReportChoice


def signals_page(sources: Sources, choice: ReportChoice) -> SignalsPage:
    del sources
    return SignalsPage(choice)
