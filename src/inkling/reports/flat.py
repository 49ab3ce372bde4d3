"""The report as flat rows, for a spreadsheet: ``section,name,metric,value``.

One figure a row (a long, "tidy" table that pivots in any spreadsheet):

=========  ==================================  ======================================
section    name                                metric
=========  ==================================  ======================================
report     (empty)                             since, until, team
outcomes   all, clicked, opened, no_signal     tickets_solved, fcr,
                                               ttr_business_hours_median,
                                               ttr_business_hours_p90,
                                               repeat_contact_rate,
                                               self_service_completion
content    the link's URL                      messages, human_opens, human_clicks,
                                               click_through, clicked_then_came_back,
                                               download, flags, raw_opens, raw_clicks
subjects   the subject line                    messages, human_open_rate, flags,
                                               raw_opens, raw_clicks
signals    person, apple_mpp, ... unknown      opens
=========  ==================================  ======================================

The ``raw_`` figures count every open and click, machines included (Apple's proxy, link
scanners): what a tracker that cannot tell them apart would show, for comparison only.
A null figure is an empty value; ``download`` is ``true``/``false``; several flags are
separated by ``;``. A cell that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return: a subject or URL can be an attacker's) is
written with a leading ``'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from inkling.reports.metrics import Report

CSV_COLUMNS = ("section", "name", "metric", "value")
_OUTCOMES = (
    "tickets_solved",
    "fcr",
    "ttr_business_hours_median",
    "ttr_business_hours_p90",
    "repeat_contact_rate",
    "self_service_completion",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def flat_rows(report: Report) -> Iterator[tuple[str, str, str, str]]:
    """Every figure of ``report`` as (section, name, metric, value), as the table above."""
    shown = report.as_json()
    for key in ("since", "until", "team"):
        yield _row("report", "", key, shown[key])
    groups = {"all": shown, **shown["by_engagement"]}
    for name, figures in groups.items():
        flat = {**figures, **_ttr(figures["ttr_business_hours"])}
        for metric in _OUTCOMES:
            yield _row("outcomes", name, metric, flat[metric])
    for link in shown["content"]:
        for metric in (
            "messages",
            "human_opens",
            "human_clicks",
            "click_through",
            "clicked_then_came_back",
            "download",
            "flags",
            "raw_opens",
            "raw_clicks",
        ):
            yield _row("content", link["url"], metric, link[metric])
    for subject in shown["subjects"]:
        for metric in ("messages", "human_open_rate", "flags", "raw_opens", "raw_clicks"):
            yield _row("subjects", subject["subject"], metric, subject[metric])
    for bucket, count in shown["signals"]["opens_by_agent"].items():
        yield _row("signals", bucket, "opens", count)


def _ttr(ttr: dict[str, Any]) -> dict[str, Any]:
    return {"ttr_business_hours_median": ttr["median"], "ttr_business_hours_p90": ttr["p90"]}


def _row(section: str, name: str, metric: str, value: Any) -> tuple[str, str, str, str]:
    return (section, _cell(name), metric, _cell(_value(value)))


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _cell(text: str) -> str:
    """``text``, defused if a spreadsheet would take it for a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
