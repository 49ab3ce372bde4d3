"""Retention and data-subject requests: ``inkling purge``, ``export``, ``erase`` and
``audit``.

An export and an erase each write an audit entry (actor ``cli``) that names the contact
in other words ("a contact (3 tickets, 12 messages)"): the address is in no entry and in
no line these commands print beyond what was typed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import dumps, fail, printable, say
from inkling.cli.serving import settings
from inkling.errors import InklingError, RequestError

if TYPE_CHECKING:
    from inkling.config import Settings
    from inkling.store import AuditEntry, Store

ACTOR = "cli"

Contact = Annotated[
    str,
    typer.Option("--contact", metavar="EMAIL", help="The contact's email address (any case)."),
]


def register(app: typer.Typer) -> None:
    for command in (purge, export, erase, audit):
        app.command(cls=PlainCommand)(command)


def _store(chosen: Settings | None = None) -> Store:
    from inkling.root import open_services

    return open_services(chosen or settings()).store


def purge(
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            metavar="DAYS",
            min=1,
            max=36_500,
            help="Purge events older than this many days.",
            show_default="the retention_days setting, 180",
        ),
    ] = None,
) -> None:
    """Delete expired events, keeping their counts.

    Each message's reading keeps the counts of its purged events (opens and clicks by
    verdict). Messages and links stay: an old link still redirects. inkling serve does
    this once a day on its own.
    """
    from inkling.store.retention import SECONDS_PER_DAY

    chosen = settings()
    days = older_than if older_than is not None else chosen.retention_days
    store = _store(chosen)
    cutoff = time.time() - days * SECONDS_PER_DAY
    with _progress(store.retention.expiring(cutoff)) as advance:
        done = store.retention.purge(cutoff, progress=advance)
    store.audit.record(
        ACTOR, "events.purge", f"events older than {_count(days, 'day')}", done.as_json()
    )
    print(
        f"purged {_count(done.events, 'event')} older than {_count(days, 'day')} (before "
        f"{_when(cutoff)} UTC); their counts kept in {_count(done.tallies, 'tally', 'tallies')}; "
        f"also {_count(done.verdict_changes, 'verdict change')} and "
        f"{_count(done.webhook_deliveries, 'webhook delivery', 'webhook deliveries')}"
    )


def export(contact: Contact) -> None:
    """Print everything held on a contact, as JSON.

    The contact, their tickets, the messages sent to them (with links, events, verdicts
    and reasons), their opt-outs, and any other value in the database that names them.
    Times are ISO 8601 in UTC.
    """
    from inkling.store.subjects import contact_address, contact_words, export_counts

    _asked(contact_address, contact)  # before the database is opened
    store = _store()
    exported = _asked(store.subjects.export, contact)
    counts = export_counts(exported)
    words = contact_words(counts["tickets"], counts["messages"])
    store.audit.record(ACTOR, "contact.export", words, counts)
    print(dumps(exported, indent=2))
    say(f"exported {words}; recorded in the audit log (inkling audit)")


def erase(
    contact: Contact,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything held on a contact, keeping anonymous counts.

    Removes the contact, their tickets, the messages sent to them alone (with their
    links and events), their address from messages shared with others, and any other
    value that names them; keeps their events' counts with no message, and their
    opt-out without the address (so they stay untracked). Cannot be undone. Asks first
    unless --yes; off a terminal, --yes is required.
    """
    from inkling.store.subjects import contact_address

    _asked(contact_address, contact)  # before the database is opened
    store = _store()
    held = store.subjects.held(contact)
    if not yes:
        if not sys.stdin.isatty():
            fail("erase needs --yes when not run on a terminal; nothing was erased", code=2)
        if not typer.confirm(f"Erase {held.words()}? This cannot be undone", err=True):
            fail("nothing was erased")
    erased = store.subjects.erase(contact)
    store.audit.record(ACTOR, "contact.erase", erased.words(), erased.as_json())
    print(f"erased {erased.words()}")
    for line in _erased_lines(erased.as_json()):
        print(f"  {line}")


def audit(
    since: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="From this time on (ISO 8601 with an offset, or epoch).",
            show_default="the start of the log",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, max=100_000, help="At most this many, the newest.")
    ] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines for machines.")] = False,
) -> None:
    """The audit log: admin actions, exports and erases.

    Oldest first; with --json, one JSON object a line.
    """
    from inkling.times import parse_time

    try:
        start = parse_time(since, "--since") if since is not None else None
    except InklingError as exc:
        fail(str(exc), code=2)
    entries = _store().audit.entries(since=start, limit=limit)
    if as_json:
        for entry in entries:
            print(dumps(_entry_json(entry)))
        return
    _show_entries(entries)


# -- helpers ------------------------------------------------------------------------------


def _asked(operation: Callable[[str], Any], contact: str) -> Any:
    try:
        return operation(contact)
    except RequestError as exc:
        fail(f"--contact: {exc.message}", code=2)


def _erased_lines(counts: dict[str, Any]) -> list[str]:
    redacted = sum(counts["redacted"].values())
    where = f" ({', '.join(sorted(counts['redacted']))})" if redacted else ""
    return [
        f"{_count(counts['messages'], 'message')} sent to them alone, with "
        f"{_count(counts['links'], 'link')} and {_count(counts['events'], 'event')} "
        "(their counts kept, anonymously)",
        f"{_count(counts['shared_messages'], 'message')} shared with others kept, their "
        "address taken out",
        f"{_count(counts['optouts'], 'opt-out')} kept without the address (still untracked)",
        f"{_count(redacted, 'other value')} naming them redacted{where}",
    ]


def _count(number: int, noun: str, nouns: str | None = None) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {nouns or noun + 's'}"


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "details": entry.details,
    }


def _show_entries(entries: list[AuditEntry]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Console(highlight=False)
    if not entries:
        out.print("The audit log is empty.")
        return
    table = Table(box=None, show_edge=False, pad_edge=False)
    for name in ("at (UTC)", "actor", "action"):
        table.add_column(name, no_wrap=True)
    for name in ("target", "details"):
        table.add_column(name, overflow="fold")
    for entry in entries:
        details = ", ".join(f"{k}={_short(v)}" for k, v in entry.details.items() if v)
        table.add_row(
            Text(_when(entry.at)),
            Text(printable(entry.actor)),
            Text(printable(entry.action)),
            Text(printable(entry.target or "-")),
            Text(printable(details or "-"), style="dim"),
        )
    out.print(table)


def _short(value: object) -> str:
    return dumps(value) if isinstance(value, dict | list) else str(value)


def _iso(ts: float) -> str:
    from inkling.times import iso

    return iso(ts)


def _when(ts: float) -> str:
    return _iso(ts).replace("T", " ").removesuffix("Z")


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr when it is a terminal and there is much to purge."""
    if total < 5000 or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("purging", total=total)
        yield lambda done: bar.advance(task, done)
