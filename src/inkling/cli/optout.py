"""Opt-outs: ``inkling optout add``, ``remove`` and ``list``.

An address or a whole domain that opted out is never tracked again, by any path (the
relay, the sending API, ``inkling instrument``): its mail is still registered and sent,
exactly as written, with ``opt_out`` as the reason in its reading.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import fail, printable, say
from inkling.cli.serving import settings

if TYPE_CHECKING:
    from inkling.root import Services
    from inkling.store.optouts import OptOutBook

optout_app = typer.Typer(
    help="Opt-outs: addresses and domains whose mail is never tracked.", no_args_is_help=True
)
Target = Annotated[
    str,
    typer.Argument(
        metavar="ADDRESS|@DOMAIN", help="ana@example.com, or @example.com for a whole domain."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(optout_app, name="optout")


def _opened() -> tuple[Services, OptOutBook]:
    from inkling.root import open_services, opt_outs

    services = open_services(settings())
    return services, opt_outs(services)


@optout_app.command("add", cls=PlainCommand)
def add(target: Target) -> None:
    """Stop tracking mail to an address or a domain, from now on."""
    from inkling.privacy.optout import audit_words, target_of

    try:
        target_of(target)  # a typo is refused before the database is opened
    except ValueError as exc:
        fail(str(exc), code=2)
    services, book = _opened()
    stored, new = book.add(target, source="cli")
    services.store.audit.record("cli", "optout.add", audit_words(stored))
    state = "is now opted out" if new else "was already opted out"
    say(f"{printable(stored)} {state}: its mail goes out untracked")


@optout_app.command("remove", cls=PlainCommand)
def remove(target: Target) -> None:
    """Track an address or domain again, if its owner asks.

    Only on the owner's request: an opt-out is theirs to lift.
    """
    from inkling.privacy.optout import audit_words, target_of

    try:
        target_of(target)
    except ValueError as exc:
        fail(str(exc), code=2)
    services, book = _opened()
    stored, removed = book.remove(target)
    if not removed:
        fail(f"{printable(stored)} has no opt-out")
    services.store.audit.record("cli", "optout.remove", audit_words(stored))
    say(f"removed the opt-out of {printable(stored)}")


@optout_app.command("list", cls=PlainCommand)
def list_optouts(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """Every opt-out, oldest first.

    An erased person's opt-out shows as "(erased)": it keeps them untracked without
    their address.
    """
    from inkling.times import iso

    _, book = _opened()
    entries = book.all()
    if not entries and not as_json:
        say("no opt-outs; add one with: inkling optout add ana@example.com")
    for entry in entries:
        if as_json:
            line = {"target": entry.address, "scope": entry.scope, "source": entry.source}
            print(json.dumps({**line, "created_at": iso(entry.created_at)}))
        else:
            shown = printable(entry.address) if entry.address else "(erased)"
            print(f"{shown}  {entry.scope}  from {entry.source}  {iso(entry.created_at)}")
