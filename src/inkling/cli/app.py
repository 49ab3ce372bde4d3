"""The command-line app, its sub-commands and the one place errors become a clean line."""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer

from inkling.cli import (
    admin,
    events,
    mail,
    optout,
    privacy,
    report,
    serving,
    signals,
    tickets,
    webhooks,
)
from inkling.cli.output import fail
from inkling.errors import ConfigError, InklingError

app = typer.Typer(
    name="inkling",
    help="Honest email tracking for customer-support teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(show: bool) -> None:
    from importlib.metadata import version

    if show:
        print(f"inkling {version('inkling')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Honest email tracking for customer-support teams."""


serving.register(app)
mail.register(app)
signals.register(app)
admin.register(app)
webhooks.register(app)
tickets.register(app)
events.register(app)
optout.register(app)
privacy.register(app)
report.register(app)


def main() -> None:
    """Entry point: runs the app and turns Inkling's errors into one clear line.

    Exit status 2 for a setting or usage at fault, 1 for anything else that went wrong.
    """
    try:
        app()
    except ConfigError as exc:
        fail(str(exc), code=2)
    except InklingError as exc:
        fail(str(exc))
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:  # a file or socket the machine refused: its name and why
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}")


def _quiet_broken_pipe() -> NoReturn:
    """The reader of stdout went away (``inkling reading --json X | head -1``): stop
    quietly, as other tools do, and keep Python from complaining again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(1)
