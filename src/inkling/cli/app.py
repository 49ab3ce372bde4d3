"""The command-line app, its sub-commands and the one place errors become a clean line."""

from __future__ import annotations

from typing import Annotated

import typer

from inkling.cli import admin, mail, serving, signals
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


def main() -> None:
    """Entry point: runs the app and turns Inkling's errors into one clear line."""
    try:
        app()
    except ConfigError as exc:
        fail(str(exc), code=2)
    except InklingError as exc:
        fail(str(exc))
