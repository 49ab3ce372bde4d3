"""Tickets and what to do about them: ``inkling tickets import``, ``inkling queue`` and
``inkling messages list``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import dumps, fail, printable, say
from inkling.cli.serving import settings

tickets_app = typer.Typer(
    help="Tickets from your helpdesk (see docs/playbook.md).", no_args_is_help=True
)
messages_app = typer.Typer(help="Sent messages, found by ticket, recipient or time.")


def register(app: typer.Typer) -> None:
    app.add_typer(tickets_app, name="tickets")
    app.add_typer(messages_app, name="messages")
    app.command(cls=PlainCommand)(queue)


@tickets_app.command("import", cls=PlainCommand)
def import_tickets(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="Ticket upserts, one JSON object a line; - for stdin."),
    ],
) -> None:
    """Create or update tickets from a JSON-lines file.

    One ticket a line (the format is in docs/playbook.md). An update older than the
    stored one is ignored. A bad line is reported with its number and skipped; every other
    line is stored.
    """
    from inkling.root import open_services
    from inkling.tickets.importing import import_tickets as run

    store = open_services(settings()).store
    with _lines(file) as lines:
        result = run(store, lines)
    for bad in result.bad:
        say(f"inkling: {printable(file)}:{bad.line}: {printable(bad.error)}")
    say(
        f"inkling: {result.stored} ticket(s) stored, {result.older} older update(s) ignored, "
        f"{len(result.bad)} bad line(s)"
    )
    if result.bad:
        raise typer.Exit(1)


def queue(
    team: Annotated[
        str | None,
        typer.Option(metavar="TEAM", help="Only this team's tickets.", show_default="every team"),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="The queue as it stood then (ISO 8601 with an offset, or epoch seconds).",
            show_default="now",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the tickets where nothing is to be done.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """What to do next on each open ticket.

    Due first, then urgent before low. One recommendation per ticket from the playbook
    (docs/playbook.md), on its team's business-hours clock, with the reason and when it
    falls due.
    """
    from inkling import root
    from inkling.cli.queue import show_queue
    from inkling.collector import tune_collector
    from inkling.playbook.queue import build_queue
    from inkling.times import parse_time

    chosen = settings()
    tune_collector()
    teams = root.team_book(chosen)
    store = root.open_services(chosen).store
    when = parse_time(at, "--at") if at is not None else None
    items = build_queue(store, teams, at=when, team=team, include_all=show_all)
    if as_json:
        print(dumps([item.as_json() for item in items], indent=2))
        return
    show_queue(items)


@messages_app.command("list", cls=PlainCommand)
def list_messages(
    ticket: Annotated[
        str | None, typer.Option(metavar="ID", help="Sent on this ticket.", show_default="any")
    ] = None,
    recipient: Annotated[
        str | None,
        typer.Option(metavar="ADDRESS", help="Sent to this address.", show_default="any"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Sent at or after this time.", show_default="any time"),
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="TIME", help="Sent before this time.", show_default="now")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            metavar="STATE",
            help="bounced, away, replied, clicked, opened, machine_only or not_opened.",
            show_default="any",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=1000, help="At most N.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Sent messages, newest first.

    One entry per message, each of its recipients side by side (who opened, who clicked).
    """
    from inkling.cli.queue import show_messages
    from inkling.root import open_services
    from inkling.signals.search import MessageQuery, find_messages

    query = MessageQuery.of(
        ticket=ticket, recipient=recipient, since=since, until=until, state=state, limit=limit
    )
    page = find_messages(open_services(settings()).store, query)
    if as_json:
        print(dumps(page.as_json(), indent=2))
        return
    show_messages(page.threads)


@contextmanager
def _lines(file: Path) -> Iterator[BinaryIO]:
    """The lines of ``file`` (stdin for ``-``), as bytes; one clear line if unreadable."""
    if str(file) == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = file.open("rb")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    with handle:
        yield handle
