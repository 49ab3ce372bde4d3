"""The Outcomes page: do customers who read the mail get answers faster and for good?

Every figure is the report's (``inkling.reports.build_report``, the same as ``inkling
report`` and ``GET /api/v1/reports``): first contact resolution, time to resolution in
business hours (median and 90th percentile), repeat contacts and self-service completion,
over all the tickets solved in the period and split by what people did with their mail
(clicked, opened, no signal). The page adds only words: one sentence answering the lead's
question first, each figure's definition a click away, and a grouped bar chart of the
rates. A figure with nothing to divide by says why ("no tickets"), never 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inkling.reports import OutcomesReport
from inkling.reports.facts import Engagement
from inkling.reports.outcomes import Outcomes
from inkling.web.charts import HEIGHT, MACHINE, PERSON, TEXT, WIDTH, Chart, Table, chart
from inkling.web.report_choice import ReportChoice, chosen_outcomes
from inkling.web.sources import Sources

#: The groups of the split, in the order the page shows them, with their colours.
GROUP_NAMES = {
    Engagement.CLICKED: "Clicked",
    Engagement.OPENED: "Opened",
    Engagement.NO_SIGNAL: "No signal",
}
GROUP_MEANINGS = {
    Engagement.CLICKED: "A person clicked a link in the ticket's mail (any of its messages).",
    Engagement.OPENED: "A person opened the ticket's mail but clicked none of its links.",
    Engagement.NO_SIGNAL: "No sign of a person: nothing came back, or only machines "
    "(Apple's proxy, link scanners).",
}
GROUP_COLOURS = {
    Engagement.CLICKED: PERSON,
    Engagement.OPENED: "#60a5fa",
    Engagement.NO_SIGNAL: MACHINE,
}
NO_TICKETS = "no tickets"
#: Room between legend entries: the browser's system font runs wider than vl-convert's.
LEGEND_GAP = 24
#: Larger than Vega's 10 px: on a phone the chart is drawn at about half its size.
FONT_SIZE = 12


@dataclass(frozen=True, slots=True)
class Definition:
    key: str  # the anchor of its definition: #def-fcr
    name: str
    words: str  # what it counts, in plain words (docs/metrics.md says the same)
    better: str  # "Higher is better."
    read: Callable[[Outcomes], float | None]  # the figure, from the report's outcomes
    rate: bool  # a share (drawn in the chart), not hours


DEFINITIONS = (
    Definition(
        "fcr",
        "First contact resolution",
        "Of the tickets solved, the share with exactly one message from the team and no "
        "reply from the customer after it. A ticket solved without any email is not one "
        "resolved at first contact.",
        "Higher is better.",
        read=lambda o: o.fcr,
        rate=True,
    ),
    Definition(
        "ttr-median",
        "Time to resolution, median",
        "From the ticket's creation to its solving, in business hours on its team's clock "
        "(nights, weekends and public holidays do not count). Half the tickets were solved "
        "faster than this, half slower.",
        "Lower is better.",
        read=lambda o: o.ttr_median,
        rate=False,
    ),
    Definition(
        "ttr-p90",
        "Time to resolution, 90th percentile",
        "The same business hours, at the 90th percentile: nine tickets in ten were solved "
        "within this; the slowest tenth took longer.",
        "Lower is better.",
        read=lambda o: o.ttr_p90,
        rate=False,
    ),
    Definition(
        "repeat",
        "Repeat contact rate",
        "The share of solved tickets whose customer opened another ticket within 7 days "
        "(7 times 24 hours) after it was solved.",
        "Lower is better.",
        read=lambda o: o.repeat_contact_rate,
        rate=True,
    ),
    Definition(
        "self-service",
        "Self-service completion",
        "Of the solved tickets whose mail carried a help-article link, the share where a "
        "person clicked an article and then, within 7 days after that first click, neither "
        "replied nor opened another ticket.",
        "Higher is better.",
        read=lambda o: o.self_service_completion,
        rate=True,
    ),
)


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    name: str
    meaning: str
    tickets: int


@dataclass(frozen=True, slots=True)
class Cell:
    """One figure of one group as the page shows it: ``text`` is the figure ("71.0 %",
    "5.5 h") or, when there is none, the reason ("no tickets")."""

    text: str
    value: float | None
    #: What it is out of, when not the group's tickets: "of 12 with an article"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    definition: Definition
    overall: Cell
    split: list[Cell]  # in the order of ``groups``


@dataclass(frozen=True, slots=True)
class OutcomesPage:
    choice: ReportChoice
    answer: str
    tickets: int
    groups: list[Group]
    rows: list[Row]
    chart: Chart | None  # None when there is nothing to draw
    help_center: bool  # help-article prefixes are configured


def outcomes_page(sources: Sources, choice: ReportChoice) -> OutcomesPage:
    """The outcome figures over the tickets solved in the chosen period (and team)."""
    report = chosen_outcomes(sources, choice)
    helped = bool(sources.help_center)
    groups = [
        Group(e.value, GROUP_NAMES[e], GROUP_MEANINGS[e], report.by_engagement[e].tickets_solved)
        for e in GROUP_NAMES
    ]
    split = [report.by_engagement[e] for e in GROUP_NAMES]
    rows = [
        Row(d, cell(d, report.outcomes, helped), [cell(d, o, helped) for o in split])
        for d in DEFINITIONS
    ]
    tickets = report.outcomes.tickets_solved
    return OutcomesPage(
        choice=choice,
        answer=answer(report),
        tickets=tickets,
        groups=groups,
        rows=rows,
        chart=_chart(rows, groups) if tickets else None,
        help_center=helped,
    )


def answer(report: OutcomesReport) -> str:
    """The page's first sentence: "Customers who clicked were resolved at first contact
    71 % of the time, against 40 % with no signal."."""
    overall = report.outcomes
    if overall.tickets_solved == 0:
        return "No tickets were solved in this period, so there is nothing to measure yet."
    clicked = report.by_engagement[Engagement.CLICKED].fcr
    silent = report.by_engagement[Engagement.NO_SIGNAL].fcr
    if clicked is not None and silent is not None:
        return (
            f"Customers who clicked were resolved at first contact {whole(clicked)} of the "
            f"time, against {whole(silent)} with no signal."
        )
    missing = "had a person's click" if clicked is None else "went without a sign of a person"
    solved = _tickets(overall.tickets_solved)
    return (
        f"{solved} solved, {whole(overall.fcr or 0.0)} at first contact; "
        f"no ticket {missing} to compare with."
    )


def cell(definition: Definition, figures: Outcomes, help_center: bool) -> Cell:
    """The figure ``definition`` names in ``figures``, or why there is none."""
    solved = figures.tickets_solved
    if solved == 0:
        return Cell(NO_TICKETS, None)
    if definition.key == "self-service":
        return _self_service(figures, help_center)
    value = definition.read(figures)
    if definition.rate:
        return Cell(percent(value), value)
    if value is None:  # times the business clock cannot place
        return Cell("no business time", None)
    return Cell(f"{value:.1f} h", value)


def _self_service(figures: Outcomes, help_center: bool) -> Cell:
    if not help_center:
        return Cell("no help center set", None)
    if figures.help_tickets == 0:
        return Cell("no article links", None)
    value = figures.self_service_completion
    return Cell(percent(value), value, f"of {figures.help_tickets:,} with an article")


def percent(share: float | None) -> str:
    """A share as the tables write it: 0.705 is "70.5 %"; None is a dash."""
    return "-" if share is None else f"{share * 100:.1f} %"


def whole(share: float) -> str:
    """A share as a sentence says it: 0.705 is "71 %"."""
    return f"{round(share * 100)} %"


def _tickets(count: int) -> str:
    return "1 ticket" if count == 1 else f"{count:,} tickets"


def _chart(rows: Sequence[Row], groups: Sequence[Group]) -> Chart | None:
    """Grouped bars: each rate, one bar per group (none where the rate has no value)."""
    import altair as alt  # here, not at the top: loading Altair costs each start 0.6 s

    rates = [row for row in rows if row.definition.rate]
    values = [
        {
            "figure": row.definition.name,
            "group": group.name,
            "percent": round(found.value * 100, 1),
            "label": whole(found.value),
        }
        for row in rates
        for group, found in zip(groups, row.split, strict=True)
        if found.value is not None
    ]
    if not values:
        return None
    order = [group.name for group in groups]
    figures = [row.definition.name for row in rates]
    base = alt.Chart(alt.InlineData(values=values)).encode(
        x=alt.X(
            "figure:N",
            sort=figures,
            title=None,
            axis=alt.Axis(labelAngle=0, labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE),
        ),
        xOffset=alt.XOffset("group:N", sort=order),
        y=alt.Y(
            "percent:Q",
            title="% of tickets",
            scale=alt.Scale(domain=[0, 100]),
            axis=alt.Axis(labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE),
        ),
    )
    colours = [GROUP_COLOURS[Engagement(group.key)] for group in groups]
    bars = base.mark_bar().encode(
        color=alt.Color(
            "group:N",
            sort=order,
            scale=alt.Scale(domain=order, range=colours),
            title=None,
            legend=alt.Legend(columnPadding=LEGEND_GAP, labelFontSize=FONT_SIZE),
        )
    )
    labels = base.mark_text(dy=-7, fontSize=12, color=TEXT).encode(text="label:N")
    spec = (bars + labels).properties(width=WIDTH, height=HEIGHT)
    table = Table(
        ["Figure", *order],
        [[row.definition.name, *(found.text for found in row.split)] for row in rates],
    )
    return chart("The rates by engagement", _summary(rates, groups), spec, table)


def _summary(rates: Sequence[Row], groups: Sequence[Group]) -> str:
    """What the chart shows, in one sentence (its label for a screen reader)."""
    parts = [
        f"{row.definition.name}: "
        + ", ".join(
            f"{group.name.lower()} {found.text}"
            for group, found in zip(groups, row.split, strict=True)
        )
        for row in rates
    ]
    return "Bars per engagement group. " + "; ".join(parts) + "."
