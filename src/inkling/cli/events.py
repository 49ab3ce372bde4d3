"""Events recorded elsewhere: ``inkling events import``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.mail import read_input
from inkling.cli.output import printable, say
from inkling.cli.serving import settings

events_app = typer.Typer(
    help="Sends, hits and mail events recorded elsewhere.",
    no_args_is_help=True,
)
#: Fewer lines than this import without a progress bar: it would only flicker.
PROGRESS_FROM = 20_000


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")


@events_app.command("import", cls=PlainCommand)
def events_import(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="JSON lines, or - for stdin.", allow_dash=True),
    ],
    format_name: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="The lines' shape: inkling (DESIGN.md), or a provider's event payloads: "
            "sendgrid, mailgun, postmark, ses.",
        ),
    ] = "inkling",
) -> None:
    """Record sends, hits and mail events from a file.

    Opens and clicks are judged like live ones. A bad line is reported on stderr as
    FILE:LINE: what was wrong, and the rest is imported; the exit status is 1 if any line
    was bad. Importing a file twice records nothing new.
    """
    from inkling import root
    from inkling.collector import tune_collector
    from inkling.providers import FORMATS, read_file

    if format_name not in FORMATS:
        say(f"inkling: --format must be one of {', '.join(FORMATS)}, not {printable(format_name)}")
        raise SystemExit(2)
    chosen = settings()
    tune_collector()
    services = root.open_services(chosen)
    data = read_input(file)
    items = list(read_file(data, format_name))
    with _progress(len(items)) as advance:
        result = root.importer(chosen, services).run(items, advance)
    name = "-" if str(file) == "-" else str(file)
    for bad in result.bad:
        say(f"{printable(name)}:{bad.line}: {printable(bad.error)}")
    print(
        f"imported {result.imported}, skipped duplicates {result.duplicates}, "
        f"not recorded {result.ignored} (event types Inkling keeps no record of), "
        f"bad {len(result.bad)}"
    )
    if result.bad:
        raise SystemExit(1)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr when it is a terminal and the import is long."""
    if total < PROGRESS_FROM or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("importing", total=total)
        yield lambda done: bar.advance(task, done)
