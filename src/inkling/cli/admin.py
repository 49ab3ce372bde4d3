"""Keeping a node in order: token keys, accounts (``cli/accounts.py``), published IP ranges."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from inkling.cli.accounts import users_app
from inkling.cli.help import PlainCommand
from inkling.cli.output import fail, printable, say
from inkling.cli.serving import settings

if TYPE_CHECKING:
    from inkling.datadir import DataDir

keys_app = typer.Typer(
    help="Token keys: rotate them without breaking old links.", no_args_is_help=True
)
ranges_app = typer.Typer(
    help="Published IP ranges, by which hits are judged.\n\nApple's Private Relay, Google, "
    "Microsoft and Amazon publish the addresses their proxies and scanners use.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(ranges_app, name="ranges")
    app.add_typer(users_app, name="users")


def _data_dir() -> DataDir:
    from inkling.datadir import DataDir

    data_dir = DataDir(settings().data_dir)
    data_dir.ensure()
    return data_dir


@keys_app.command("rotate", cls=PlainCommand)
def keys_rotate() -> None:
    """Make a fresh key current. Links made earlier keep working with their own key."""
    from inkling.tokens import KeyFile

    key_file = KeyFile(_data_dir().keys)
    if not key_file.path.exists():
        key_file.create()
    ident = key_file.rotate()
    older = len(key_file.read().secrets) - 1
    say(f"key {ident} is now current for new links; {older} older key(s) still open old links")


@ranges_app.command("update", cls=PlainCommand)
def ranges_update(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIRECTORY",
            help="Directory with apple-proxy-ipv4.txt, google-ipv6.txt, ... (or --fetch).",
            show_default=False,
        ),
    ] = None,
    fetch: Annotated[
        bool,
        typer.Option(
            "--fetch", help="Download the ranges from Apple, Google, Microsoft and AWS themselves."
        ),
    ] = False,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            metavar="NAME=URL",
            help="With --fetch: take source NAME from URL; repeatable. The sources: apple, "
            "google, google-cloud, googlebot, microsoft-365, aws, and azure, whose weekly "
            "ServiceTags_Public_*.json is fetched only this way.",
            show_default="the operators' own URLs",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(metavar="SECONDS", min=1.0, help="With --fetch: seconds allowed per source."),
    ] = 60.0,
    snapshot: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="The date the ranges were taken, YYYY-MM-DD.",
            show_default="today, UTC",
        ),
    ] = None,
) -> None:
    """Install fresher ranges from a DIRECTORY, or --fetch them.

    Verdicts name the snapshot they used; a running inkling serve uses the new ranges
    once restarted.
    """
    from inkling.classify import fetch as fetching
    from inkling.classify import ranges

    overrides = _sources(directory, fetch=fetch, source=source or [])
    data_dir = _data_dir()
    if directory is None:
        counts = fetching.fetch_and_update(
            data_dir.path,
            overrides=overrides,
            snapshot=snapshot,
            timeout=timeout,
            progress=lambda line: say(printable(line)),
        )
    else:
        counts = ranges.update(directory, data_dir.path, snapshot=snapshot)
    installed = ranges.Networks.load(data_dir.ranges)
    say(
        f"installed {sum(counts.values())} ranges from {len(counts)} files "
        f"(snapshot {printable(installed.snapshot)}); restart inkling serve to use them"
    )


def _sources(directory: Path | None, *, fetch: bool, source: list[str]) -> dict[str, str]:
    """The ``--source`` URLs by source name, once the arguments are known to fit together
    (else one line and exit status 2, as for any other usage error)."""
    from inkling.classify import fetch as fetching
    from inkling.errors import RangesError

    if fetch and directory is not None:
        fail(f"give a DIRECTORY or --fetch, not both ({directory} and --fetch)", code=2)
    if not fetch and directory is None:
        fail("give a DIRECTORY of range files, or --fetch to download them", code=2)
    if source and not fetch:
        fail("--source goes with --fetch (a DIRECTORY is read as it is)", code=2)
    try:
        overrides = fetching.parse_overrides(source)
        fetching.with_urls(fetching.load_sources(), overrides)
    except RangesError as exc:
        fail(str(exc), code=2)
    return overrides
