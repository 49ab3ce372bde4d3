"""``inkling report``: the metrics (docs/metrics.md) as a table, JSON or CSV.

Every value that came from outside (URLs, subject lines, team names) is passed through
``printable`` and shown as plain ``Text``, never as markup; JSON goes through ``dumps``.
"""

from __future__ import annotations

import csv
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import dumps, printable, say
from inkling.cli.serving import settings

if TYPE_CHECKING:  # loaded when the command runs: every other command starts faster
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from inkling.reports import Period, Report

FORMATS = ("table", "json", "csv")
_ENGAGEMENTS = {"clicked": "clicked", "opened": "opened", "no_signal": "no signal"}
_FLAG_WORDS = {
    "opened_not_clicked": "opened, not clicked",
    "did_not_help": "did not help",
    "not_opened": "not opened",
}


def register(app: typer.Typer) -> None:
    app.command(cls=PlainCommand)(report)


def report(
    since: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="Tickets solved at or after this time (ISO 8601 with an offset, or epoch "
            "seconds).",
            show_default="30 days before --until",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Tickets solved before this time.", show_default="now"),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(metavar="TEAM", help="Only this team's tickets.", show_default="every team"),
    ] = None,
    format_name: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="table (for people), json (DESIGN.md) or csv."
        ),
    ] = "table",
) -> None:
    """The metrics: how fast tickets end and what helped.

    First contact resolution, time to resolution, repeat contacts, self-service, and how
    each email and help article did. Over the tickets solved in the period; people's
    opens and clicks only. Each figure is defined in docs/metrics.md.
    """
    from inkling import root
    from inkling.collector import tune_collector
    from inkling.reports import build_report

    if format_name not in FORMATS:
        say(f"inkling: --format must be one of {', '.join(FORMATS)}, not {printable(format_name)}")
        raise SystemExit(2)
    chosen = settings()
    covered = _period(since, until)
    tune_collector()
    made = build_report(
        root.open_services(chosen).store,
        root.team_book(chosen),
        covered,
        team=team,
        help_center=chosen.reports.help_center,
    )
    if format_name == "json":
        print(dumps(made.as_json(), indent=2))
    elif format_name == "csv":
        _csv(made)
    else:
        show_report(made)


def _period(since: str | None, until: str | None) -> Period:
    """The period, or exit 2 with one line naming the option at fault."""
    from inkling.errors import InklingError
    from inkling.reports import period

    try:
        return period(since, until, names=("--since", "--until"))
    except InklingError as exc:
        say(f"inkling: {printable(exc)}")
        raise SystemExit(2) from exc


def _csv(made: Report) -> None:
    from inkling.reports import CSV_COLUMNS, flat_rows

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in flat_rows(made):
        writer.writerow([printable(cell) for cell in row])


def show_report(made: Report, console: Console | None = None) -> None:
    """The figures as a support lead reads them: outcomes by engagement, then links,
    subject lines and opens by what made them."""
    from rich.console import Console
    from rich.text import Text

    from inkling.times import iso

    out = console or Console(highlight=False)
    team = f", team {printable(made.team)}" if made.team else ""
    since, until = (iso(t).replace("T", " ")[:16] for t in (made.period.since, made.period.until))
    out.print(Text(f"Tickets solved {since} to {until} UTC{team}", style="bold"))
    for table in (_outcomes(made), _links(made), _subjects(made), _signals(made)):
        out.print()
        out.print(table)
    out.print(
        Text(
            "People's opens and clicks only; the raw figure beside each counts machines too. "
            "Definitions: docs/metrics.md",
            style="dim",
        )
    )


def _table(title: str, *columns: str, left: int = 1) -> Table:
    """A table whose first ``left`` columns are text and the rest figures."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold", box=None)
    for n, name in enumerate(columns):
        table.add_column(name, justify="left" if n < left else "right", overflow="fold")
    return table


def _outcomes(made: Report) -> Table:
    from rich.text import Text

    table = _table(
        "Outcomes",
        "engagement",
        "solved",
        "FCR",
        "TTR median h",
        "TTR p90 h",
        "repeat",
        "self-service",
    )
    groups = {"all": made.outcomes} | {e.value: o for e, o in made.by_engagement.items()}
    for name, o in groups.items():
        table.add_row(
            Text(_ENGAGEMENTS.get(name, name), style="bold" if name == "all" else ""),
            str(o.tickets_solved),
            _share(o.fcr),
            _number(o.ttr_median),
            _number(o.ttr_p90),
            _share(o.repeat_contact_rate),
            _share(o.self_service_completion),
        )
    return table


def _links(made: Report) -> Table:
    from rich.text import Text

    table = _table(
        "Links (help articles, files)",
        "link",
        "messages",
        "opened",
        "clicked",
        "click-through",
        "came back",
        "flags",
    )
    for link in made.content:
        url = printable(link.url) + (" (download)" if link.download else "")
        table.add_row(
            Text(url),
            str(link.messages),
            _with_raw(str(link.human_opens), str(link.raw_opens)),
            _with_raw(str(link.human_clicks), str(link.raw_clicks)),
            _share(link.click_through),
            _share(link.clicked_then_came_back),
            Text(_flags(link.flags), style="yellow"),
        )
    return table


def _subjects(made: Report) -> Table:
    from rich.text import Text

    table = _table("Subject lines", "subject", "messages", "opened by a person", "flags")
    for subject in made.subjects:
        table.add_row(
            Text(printable(subject.subject)),
            str(subject.messages),
            _with_raw(
                _share(subject.human_open_rate), _share(_rate(subject.raw_opens, subject.messages))
            ),
            Text(_flags(subject.flags), style="yellow"),
        )
    return table


def _with_raw(human: str, raw: str) -> Text:
    """A person's figure, then the raw one (machines included) dimmed beside it."""
    from rich.text import Text

    shown = Text(human)
    shown.append(f" raw {raw}", style="dim")
    return shown


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _signals(made: Report) -> Table:
    total = sum(made.opens_by_agent.values())
    table = _table("Opens by what made them", "made by", "opens", "share")
    for name, count in made.opens_by_agent.items():
        if count:
            table.add_row(name, str(count), _share(count / total))
    return table


def _flags(flags: list[str]) -> str:
    return ", ".join(_FLAG_WORDS.get(flag, flag) for flag in flags)


def _share(value: float | None) -> str:
    """A share as a percentage ("-" for none): 71.4%."""
    return "-" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
