"""The Signals page: what made the opens, over time, and why the raw open rate misleads.

Apple's proxy fetches every image whether anyone reads or not, scanners open mail before
the person does, and some hits nobody can tell apart: a raw open count adds them all up
as readers. This page shows the opens on the solved tickets' mail by what made them (the
buckets of ``reports/signals.py``): one sentence first ("Of 4,210 opens, 1,380 were
people's: ..."), a stacked bar chart per UTC day (per week or month over a long period,
``reports/series.py``), and the totals, which are the report's ``opens_by_agent`` (as
``inkling report`` prints them) without a whole report to wait for: the same mail, read
by day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from inkling.reports.series import OpenSeries, Point, Step, opens_series
from inkling.reports.signals import BUCKETS, PERSON
from inkling.web.charts import HEIGHT, MACHINE, WIDTH, Chart, Table, chart
from inkling.web.charts import PERSON as PERSON_COLOUR
from inkling.web.outcomes_page import FONT_SIZE, LEGEND_GAP, percent, whole
from inkling.web.report_choice import ReportChoice
from inkling.web.sources import Sources


@dataclass(frozen=True, slots=True)
class Opener:
    """A bucket as the page names it: ``label`` in the legend and tables, ``phrase`` in a
    sentence, ``meaning`` beside its total, ``colour`` in the chart (people strong,
    machines in greys, the untold lightest)."""

    label: str
    phrase: str
    meaning: str
    colour: str


OPENERS: Mapping[str, Opener] = {
    PERSON: Opener(
        "People",
        "people",
        "Judged a person's, through Gmail's image proxy too (it fetches when the person opens).",
        PERSON_COLOUR,
    ),
    "apple_mpp": Opener(
        "Apple's privacy proxy",
        "Apple's privacy proxy",
        "Apple Mail fetches every image at delivery, read or not: says nothing about reading.",
        "#9ca3af",
    ),
    "gmail_proxy": Opener(
        "Gmail's image proxy",
        "Gmail's image proxy",
        "Gmail's proxy fetching with no sign that a person opened the mail.",
        MACHINE,
    ),
    "gmail_prefetch": Opener(
        "Gmail at delivery",
        "Gmail fetching at delivery",
        "Gmail fetching the images as the mail arrives.",
        "#4b5563",
    ),
    "yahoo_proxy": Opener(
        "Yahoo's proxy", "Yahoo's proxy", "Yahoo's image proxy fetching the images.", "#b0b6bf"
    ),
    "prefetch": Opener(
        "Prefetches",
        "prefetches",
        "A mail program or browser fetching ahead, before anyone looks.",
        "#80868f",
    ),
    "scanner": Opener(
        "Security scanners",
        "security scanners",
        "A company's security gateway checking the mail before the person sees it.",
        "#374151",
    ),
    "link_preview": Opener(
        "Link previews",
        "link previews",
        "A chat app making a preview of a pasted link.",
        "#c4c9d0",
    ),
    "script": Opener(
        "Scripts and programs",
        "scripts",
        "A program: no user agent, a crawler, a library.",
        "#1f2937",
    ),
    "unknown": Opener(
        "Not told apart",
        "hits nobody can tell apart",
        "The evidence fits a person or a machine, so it counts as neither.",
        "#d1d5db",
    ),
}
#: How each step is named in a title and in the table's first column.
STEP_WORDS = {Step.DAY: "day", Step.WEEK: "week", Step.MONTH: "month"}


@dataclass(frozen=True, slots=True)
class Total:
    key: str
    opener: Opener
    opens: int
    share: str  # of every open: "33.1 %"


@dataclass(frozen=True, slots=True)
class SignalsPage:
    choice: ReportChoice
    answer: str
    tickets: int
    opens: int  # every open, the raw count
    people: int
    totals: list[Total]  # every bucket, people first
    chart: Chart | None  # None when there is nothing to draw
    step: str  # "day", "week" or "month"
    outside: int  # opens on this mail on days outside the chart
    outside_words: str | None


def signals_page(sources: Sources, choice: ReportChoice) -> SignalsPage:
    """The opens on the mail of the tickets solved in the chosen period (and team)."""
    series = opens_series(sources.store, choice.period, team=choice.team)
    counts = series.totals()
    opens = sum(counts.values())
    outside = sum(series.outside.values())
    return SignalsPage(
        choice=choice,
        answer=answer(series.tickets, counts),
        tickets=series.tickets,
        opens=opens,
        people=counts[PERSON],
        totals=[
            Total(key, OPENERS[key], counts[key], _share(counts[key], opens)) for key in BUCKETS
        ],
        chart=_chart(series),
        step=STEP_WORDS[series.step],
        outside=outside,
        outside_words=_outside(outside),
    )


def answer(tickets: int, counts: Mapping[str, int]) -> str:
    """The page's first sentence: "Of 4,210 opens, 1,380 (33 %) were people's: the raw
    open rate counts Apple's privacy proxy (2,100) and security scanners (500) as
    readers."."""
    if tickets == 0:
        return "No tickets were solved in this period, so there are no opens to look at."
    opens = sum(counts.values())
    if opens == 0:
        solved = "The 1 ticket" if tickets == 1 else f"The {tickets:,} tickets"
        return f"{solved} solved in this period had no opens on their mail."
    people = counts.get(PERSON, 0)
    if people == opens:
        return f"Of {opens:,} opens, all were people's: here the raw open rate tells the truth."
    machines = sorted(
        ((n, key) for key, n in counts.items() if key != PERSON and n > 0),
        key=lambda found: (-found[0], BUCKETS.index(found[1])),
    )
    named = [f"{OPENERS[key].phrase} ({n:,})" for n, key in machines[:2]]
    if len(machines) > 2:
        named.append("others")
    who = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    return (
        f"Of {opens:,} opens, {people:,} ({whole(people / opens)}) were people's: "
        f"the raw open rate counts {who} as readers."
    )


def _share(part: int, whole_count: int) -> str:
    return percent(part / whole_count) if whole_count else "-"


def _outside(count: int) -> str | None:
    if count == 0:
        return None
    opens = "1 more open" if count == 1 else f"{count:,} more opens"
    return (
        f"{opens} on this mail came on days outside the chart (mail sent before the period "
        "began, or opened after it ended): the totals below count them, the chart does not."
    )


def _chart(series: OpenSeries) -> Chart | None:
    """Stacked bars of the opens per step, people at the bottom; None with no opens."""
    import altair as alt  # here, not at the top: loading Altair costs each start 0.6 s

    totals = series.shown()
    shown = [key for key in BUCKETS if totals[key] > 0]
    if not shown or not series.points:
        return None
    labels = [OPENERS[key].label for key in shown]
    values = [
        {
            "start": point.start * 1000,
            "end": point.end * 1000,
            "opener": OPENERS[key].label,
            "order": order,
            "opens": point.opens[key],
        }
        for point in series.points
        for order, key in enumerate(shown)
    ]
    every = STEP_WORDS[series.step]
    shape = "%b %Y" if series.step is Step.MONTH else "%-d %b"
    spec = (
        alt.Chart(alt.InlineData(values=values))
        .transform_stack(
            stack="opens", groupby=["start"], as_=["low", "high"], sort=[alt.SortField("order")]
        )
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "start:T",
                title=f"{every.capitalize()} (UTC)",
                scale=alt.Scale(type="utc"),
                # the days are UTC days: named on UTC, whatever the renderer's zone
                axis=alt.Axis(
                    labelExpr=f"utcFormat(datum.value, '{shape}')",
                    labelAngle=0,
                    tickCount=8,
                    labelFontSize=FONT_SIZE,
                    titleFontSize=FONT_SIZE,
                ),
            ),
            x2="end:T",
            y=alt.Y(
                "low:Q",
                title="Opens",
                axis=alt.Axis(
                    tickMinStep=1, format="d", labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE
                ),
            ),
            y2="high:Q",
            color=alt.Color(
                "opener:N",
                sort=labels,
                scale=alt.Scale(domain=labels, range=[OPENERS[k].colour for k in shown]),
                title=None,
                legend=alt.Legend(columnPadding=LEGEND_GAP, labelFontSize=FONT_SIZE),
            ),
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    table = Table(
        [f"{every.capitalize()} (UTC)", *labels, "All opens"],
        [
            [_when(point, series), *(point.opens[k] for k in shown), point.total]
            for point in series.points
        ],
    )
    return chart(f"Opens per {every}, by what made them", _summary(series, shown), spec, table)


def _summary(series: OpenSeries, shown: Sequence[str]) -> str:
    """What the chart shows, in one sentence (its label for a screen reader)."""
    totals = series.shown()
    first, last = series.points[0], series.points[-1]
    counted = ", ".join(f"{OPENERS[key].phrase} {totals[key]:,}" for key in shown)
    return (
        f"Stacked bars of the opens per {STEP_WORDS[series.step]} (UTC) from "
        f"{_date(first.start)} to {_date(last.end - 1)}, by what made them: {counted}."
    )


def _when(point: Point, series: OpenSeries) -> str:
    """A step as the table names it: "Mon 2 Nov 2026", "2 Nov to 8 Nov 2026", "Nov 2026"."""
    start = datetime.fromtimestamp(point.start, UTC)
    if series.step is Step.MONTH:
        return f"{start:%b %Y}"
    if series.step is Step.DAY:
        return f"{start:%a} {_date(point.start)}"
    end = datetime.fromtimestamp(point.end - 1, UTC)
    return f"{start.day} {start:%b} to {_date(end.timestamp())}"


def _date(ts: float) -> str:
    """A UTC day in words: "2 Nov 2026"."""
    day = datetime.fromtimestamp(ts, UTC)
    return f"{day.day} {day:%b %Y}"
