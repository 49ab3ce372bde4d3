"""The Content page: which help articles, files and subject lines work, as a support lead
asks it.

One sentence first ("2 articles are opened but not clicked (...); 1 did not help (...)."),
then a chart of the most-sent links (people's opens beside people's clicks), then a table
per kind: articles and other links, files (downloads), subject lines. Every figure is the
report's (``inkling.reports``, one definition for the page, ``inkling report`` and the
API) and a person's; the raw figure, every open and click with the machines' (Apple's
proxy, link scanners), stands beside it in grey, so a lead sees what a tracker that does
not tell them apart would have claimed. Each flag is a chip in words, with the row's own
numbers behind it and what it may mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inkling.reports import THRESHOLDS, ContentReport, Thresholds
from inkling.reports.content import LinkFigures, SubjectFigures
from inkling.reports.flags import DID_NOT_HELP, NOT_OPENED, OPENED_NOT_CLICKED
from inkling.web.charts import HEIGHT, PERSON, TEXT, WIDTH, Chart, Table, chart
from inkling.web.content_sort import chosen_sort, sorted_links, sorted_subjects
from inkling.web.report_choice import ReportChoice, chosen_content
from inkling.web.sources import Sources

#: Rows shown per table at most (most sent first): past that, a team or a shorter period.
MAX_ROWS = 100
#: Links the chart draws: the most sent.
CHART_LINKS = 8
#: A name in the first sentence is cut after this many characters; on the chart's axis,
#: after ``AXIS`` (the browser's font can be wider than the one the chart was measured in).
SHORT = 48
AXIS = 30
FONT_SIZE = 12
#: Names the first sentence lists per flag before "and N more".
NAMED = 3
#: The chart's two bars: people's opens (light, outlined) and people's clicks (strong).
OPENED, CLICKED = "Opened by people", "Clicked by people"
OPENED_FILL = "#bfdbfe"
#: Each flag as its chip says it.
CHIPS = {
    OPENED_NOT_CLICKED: "Opened, not clicked",
    DID_NOT_HELP: "Did not help",
    NOT_OPENED: "Not opened",
}


@dataclass(frozen=True, slots=True)
class Meaning:
    """A flag as the page explains it to a lead."""

    key: str
    chip: str  # "Opened, not clicked"
    means: str  # what it may say about the article or subject line
    when: str  # what raises it, with the thresholds


@dataclass(frozen=True, slots=True)
class Flag:
    key: str
    chip: str
    why: str  # this row's own numbers: "16 messages opened by people, 1 clicked (6.2 %)."


@dataclass(frozen=True, slots=True)
class Count:
    """A person's figure, and the raw one (machines included) shown beside it in grey."""

    human: int
    raw: int


@dataclass(frozen=True, slots=True)
class LinkLine:
    url: str
    kind: str  # "article" (under the help center), "file", "link"
    file_type: str  # "PDF", "ZIP" for a file; "" otherwise
    sent: int
    opens: Count
    clicks: Count
    click_through: str
    clicking_tickets: int
    came_back: str
    flags: list[Flag]


@dataclass(frozen=True, slots=True)
class SubjectLine:
    subject: str
    sent: int
    opens: Count
    open_rate: str
    clicks: Count
    click_through: str
    flags: list[Flag]


@dataclass(frozen=True, slots=True)
class Rows:
    """One table's rows (at most ``MAX_ROWS``) and how many there were."""

    lines: Sequence[LinkLine | SubjectLine]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.lines)


@dataclass(frozen=True, slots=True)
class ContentPage:
    choice: ReportChoice
    answer: str
    tickets: int  # solved in the period
    links: Rows
    downloads: Rows
    subjects: Rows
    chart: Chart | None
    meanings: list[Meaning]
    help_center: bool  # whether help articles are recognised at all
    sort: str  # the column the tables are in the order of (content_sort.COLUMNS)


def content_page(sources: Sources, choice: ReportChoice) -> ContentPage:
    """The page over the tickets solved in the chosen period (and team)."""
    report = chosen_content(sources, choice)
    help_center = tuple(p for p in sources.help_center if p)
    sort = chosen_sort(choice.sort)
    pages = [f for f in report.content if not f.download]
    files = [f for f in report.content if f.download]
    subjects = report.subjects

    def links(shown: Sequence[LinkFigures]) -> Rows:
        lines = [link_line(f, help_center) for f in sorted_links(shown[:MAX_ROWS], sort)]
        return Rows(lines, len(shown))

    return ContentPage(
        choice=choice,
        answer=answer(report, help_center),
        tickets=report.tickets_solved,
        links=links(pages),
        downloads=links(files),
        subjects=Rows(
            [subject_line(f) for f in sorted_subjects(subjects[:MAX_ROWS], sort)], len(subjects)
        ),
        chart=_chart(pages[:CHART_LINKS], help_center),
        meanings=meanings(),
        help_center=bool(help_center),
        sort=sort,
    )


def meanings(thresholds: Thresholds = THRESHOLDS) -> list[Meaning]:
    """The three flags in a lead's words, with what raises each."""
    t = thresholds
    return [
        Meaning(
            OPENED_NOT_CLICKED,
            CHIPS[OPENED_NOT_CLICKED],
            "People open the mail that carries it, but hardly anyone follows the link: it "
            "may be hard to find in the mail, its words may not say why to click, or the "
            "mail already answers the question.",
            f"At least {t.opened_not_clicked_min_opens} messages with the link opened by a "
            f"person, and fewer than {whole(t.opened_not_clicked_below)} of them clicked.",
        ),
        Meaning(
            DID_NOT_HELP,
            CHIPS[DID_NOT_HELP],
            "People clicked it and still had to ask: they wrote back or opened a new ticket "
            "within 7 days. The article may be too technical, too long, or about something "
            "else than what they asked.",
            f"At least {t.did_not_help_min_tickets} tickets where a person clicked it, and "
            f"{whole(t.did_not_help_from)} or more of them came back within 7 days.",
        ),
        Meaning(
            NOT_OPENED,
            CHIPS[NOT_OPENED],
            "People rarely open mail with this subject line: it may read like a "
            "notification, a survey or a sales mail. Say what is inside.",
            f"At least {t.not_opened_min_messages} messages sent with it (tracked with a "
            f"pixel), and fewer than {whole(t.not_opened_below)} opened by a person.",
        ),
    ]


def link_line(link: LinkFigures, help_center: Sequence[str] = ()) -> LinkLine:
    """One link's row: a person's figures, the raw ones beside them, its flags."""
    return LinkLine(
        url=link.url,
        kind=kind(link.url, link.download, help_center),
        file_type=file_type(link.url) if link.download else "",
        sent=link.messages,
        opens=Count(link.human_opens, link.raw_opens),
        clicks=Count(link.human_clicks, link.raw_clicks),
        click_through=percent(link.click_through),
        clicking_tickets=link.clicking_tickets,
        came_back=percent(link.clicked_then_came_back),
        flags=[Flag(key, CHIPS[key], _link_why(key, link)) for key in link.flags],
    )


def subject_line(subject: SubjectFigures) -> SubjectLine:
    return SubjectLine(
        subject=subject.subject,
        sent=subject.messages,
        opens=Count(subject.human_opens, subject.raw_opens),
        open_rate=percent(subject.human_open_rate),
        clicks=Count(subject.human_clicks, subject.raw_clicks),
        click_through=percent(subject.click_through),
        flags=[
            Flag(
                key,
                CHIPS[key],
                f"{subject.human_opens} of {_messages(subject.messages)} opened by a person "
                f"({percent(subject.human_open_rate)}).",
            )
            for key in subject.flags
        ],
    )


def answer(report: ContentReport, help_center: Sequence[str] = ()) -> str:
    """The page's first sentence: what is flagged, named; or that nothing is."""
    parts = []
    for key, verb in ((OPENED_NOT_CLICKED, "opened but not clicked"), (DID_NOT_HELP, None)):
        flagged = [link for link in report.content if key in link.flags]
        if flagged:
            noun = _noun(flagged, help_center)
            many = len(flagged) != 1
            said = f"{'are' if many else 'is'} {verb}" if verb else "did not help"
            parts.append(f"{_count(len(flagged), noun)} {said} ({_names(flagged, help_center)})")
    unopened = [s for s in report.subjects if NOT_OPENED in s.flags]
    if unopened:
        names = _listed([f"“{short(s.subject)}”" for s in unopened])
        parts.append(f"people do not open {_count(len(unopened), 'subject line')} ({names})")
    if parts:
        sentence = "; ".join(parts) + "."
        return sentence[:1].upper() + sentence[1:]
    solved = report.tickets_solved
    if not report.content and not report.subjects:
        if solved == 0:
            return "No tickets were solved in this period, so there is nothing to show yet."
        return f"No tracked mail went out on the {_count(solved, 'ticket')} solved in this period."
    looked = [
        _count(len(report.content), "link") if report.content else "",
        _count(len(report.subjects), "subject line") if report.subjects else "",
    ]
    return f"Nothing is flagged among {' and '.join(p for p in looked if p)} this period."


def kind(url: str, download: bool, help_center: Sequence[str] = ()) -> str:
    """ "file" (a download), "article" (under one of the help center's prefixes), "link"."""
    if download:
        return "file"
    return "article" if any(p and url.startswith(p) for p in help_center) else "link"


def short(text: str, help_center: Sequence[str] = (), limit: int = SHORT) -> str:
    """A link or subject line as a sentence or an axis names it: an article by what
    follows the help center's address, another link without its scheme; cut at
    ``limit`` characters."""
    named = text
    for prefix in help_center:
        if prefix and text.startswith(prefix) and text[len(prefix) :].strip("/"):
            named = text[len(prefix) :].strip("/")
            break
    else:
        for scheme in ("https://", "http://"):
            if text.startswith(scheme):
                named = text[len(scheme) :]
                break
    return named if len(named) <= limit else named[: limit - 1] + "…"


def file_type(url: str) -> str:
    """What a download is, by its suffix: "PDF", "ZIP" ("" when it has none)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].upper() if "." in name else ""


def percent(share: float | None) -> str:
    """A share as the tables write it: 0.125 is "12.5 %"; None (nothing to divide by) is
    a dash."""
    return "-" if share is None else f"{share * 100:.1f} %"


def whole(share: float) -> str:
    """A share as a sentence says it: 0.1 is "10 %"."""
    return f"{round(share * 100)} %"


def _link_why(key: str, link: LinkFigures) -> str:
    if key == OPENED_NOT_CLICKED:
        return (
            f"{_messages(link.human_opens)} opened by people, {link.human_clicks} clicked "
            f"({percent(link.click_through)})."
        )
    tickets = link.clicking_tickets
    people = "person" if tickets == 1 else "people"
    return (
        f"{link.came_back_tickets} of the {tickets} {people} who clicked it came back "
        "within 7 days."
    )


def _noun(flagged: Sequence[LinkFigures], help_center: Sequence[str]) -> str:
    kinds = {kind(link.url, link.download, help_center) for link in flagged}
    return kinds.pop() if len(kinds) == 1 else "link"


def _names(flagged: Sequence[LinkFigures], help_center: Sequence[str]) -> str:
    return _listed([f"“{short(link.url, help_center)}”" for link in flagged])


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMED])
    more = len(names) - NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _messages(count: int) -> str:
    return _count(count, "message")


def _chart(links: Sequence[LinkFigures], help_center: Sequence[str]) -> Chart | None:
    """Horizontal bars, two per link: the messages people opened, and those they clicked
    it on (most sent on top)."""
    import altair as alt  # here, not at the top: loading Altair costs each start 0.6 s

    if not links:
        return None
    names = _unique([short(link.url, help_center, AXIS) for link in links])
    values = [
        {"link": name, "measure": measure, "messages": count}
        for name, link in zip(names, links, strict=True)
        for measure, count in ((OPENED, link.human_opens), (CLICKED, link.human_clicks))
    ]
    measures = [OPENED, CLICKED]
    base = alt.Chart(alt.InlineData(values=values)).encode(
        y=alt.Y(
            "link:N",
            sort=names,
            title=None,
            axis=alt.Axis(labelLimit=240, labelFontSize=FONT_SIZE),
        ),
        yOffset=alt.YOffset("measure:N", sort=measures),
        x=alt.X(
            "messages:Q",
            title="Messages",
            axis=alt.Axis(
                tickMinStep=1, tickCount=5, labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE
            ),
        ),
    )
    bars = base.mark_bar(stroke=PERSON, strokeWidth=1).encode(
        color=alt.Color(
            "measure:N",
            sort=measures,
            scale=alt.Scale(domain=measures, range=[OPENED_FILL, PERSON]),
            title=None,
            legend=alt.Legend(labelFontSize=FONT_SIZE, columnPadding=20),
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12, color=TEXT).encode(text="messages:Q")
    spec = (bars + labels).properties(
        width=WIDTH - 240,
        height=max(HEIGHT, 44 * len(links)),
        padding={"left": 40, "right": 24, "top": 8, "bottom": 8},
    )
    table = Table(
        ["Link", "Sent", OPENED, CLICKED, "Opened, raw", "Clicked, raw"],
        [
            [link.url, link.messages, link.human_opens, link.human_clicks, link.raw_opens,
             link.raw_clicks]
            for link in links
        ],
    )  # fmt: skip
    return chart(
        f"The {_count(len(links), 'most-sent link')}: opened by people, clicked by people",
        _summary(names, links),
        spec,
        table,
    )


def _summary(names: Sequence[str], links: Sequence[LinkFigures]) -> str:
    """What the chart shows, in one sentence (its label for a screen reader)."""
    parts = [
        f"“{name}”: {_messages(link.messages)} sent, opened by people on "
        f"{link.human_opens}, clicked on {link.human_clicks}"
        for name, link in zip(names, links, strict=True)
    ]
    return "Messages people opened and clicked, per link: " + "; ".join(parts) + "."


def _unique(names: Sequence[str]) -> list[str]:
    """The axis's names, each once (two long URLs can be cut to the same words)."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique
