"""The Outcomes page (stub: built out in issue 11)."""

from __future__ import annotations

from dataclasses import dataclass

from inkling.web.report_choice import ReportChoice
from inkling.web.sources import Sources


@dataclass(frozen=True, slots=True)
class OutcomesPage:
    choice: ReportChoice


def outcomes_page(sources: Sources, choice: ReportChoice) -> OutcomesPage:
    del sources
    return OutcomesPage(choice)
