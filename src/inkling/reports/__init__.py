"""The metrics (DESIGN.md, *Metrics*), defined once and shared by ``inkling report``, ``GET
/api/v1/reports`` and the dashboard.

``build_report(store, teams, period(...), team=, help_center=)`` reads the tickets solved
in the period through ``store.reports`` and returns a :class:`Report`; ``as_json()`` is
the contract's shape and ``flat_rows`` its CSV. How each figure is defined, with worked
examples: docs/metrics.md.
"""

from inkling.reports.flags import THRESHOLDS, Thresholds
from inkling.reports.flat import CSV_COLUMNS, flat_rows
from inkling.reports.metrics import (
    ContentReport,
    OutcomesReport,
    Report,
    build_report,
    content_report,
    outcomes_report,
)
from inkling.reports.period import Period, period

__all__ = [
    "CSV_COLUMNS",
    "THRESHOLDS",
    "ContentReport",
    "OutcomesReport",
    "Period",
    "Report",
    "Thresholds",
    "build_report",
    "content_report",
    "flat_rows",
    "outcomes_report",
    "period",
]
