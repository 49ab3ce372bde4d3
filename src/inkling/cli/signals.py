"""Judging hits recorded elsewhere: ``inkling classify``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.mail import read_input
from inkling.cli.output import dumps, fail, printable, say
from inkling.cli.serving import settings


def register(app: typer.Typer) -> None:
    app.command(cls=PlainCommand)(classify)


def classify(
    jsonl: Annotated[
        Path,
        typer.Option(
            "--jsonl",
            metavar="FILE",
            help="Hits, one JSON object a line, or - for stdin.",
            allow_dash=True,
        ),
    ],
) -> None:
    """Judge hits recorded elsewhere: person, machine or unknown.

    Prints one {"message", "verdict", "agent", "reasons"} line per input line, in input
    order; a line that is not a hit gets an {"line", "error"} object in its place.
    """
    from inkling import root
    from inkling.classify.lines import classify_lines, read_lines
    from inkling.root import open_services

    judge_with = root.classifier(open_services(settings()))
    lines = read_lines(read_input(jsonl))
    bad = 0
    out = sys.stdout
    for result in classify_lines(lines, judge_with):
        if "error" in result:
            bad += 1
            say(f"inkling: line {result['line']}: {printable(result['error'])}")
        out.write(dumps(result) + "\n")
    out.flush()
    if bad:
        fail(f"{bad} line(s) were not hits; each got an error object in the output")
