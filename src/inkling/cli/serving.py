"""Running a node: ``inkling serve``, ``inkling demo`` and ``inkling status``."""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import dumps, fail, printable, say
from inkling.errors import ConfigError

if TYPE_CHECKING:
    from inkling.config import Settings
    from inkling.demo import Filled
    from inkling.playbook.teams import TeamBook
    from inkling.root import Services
    from inkling.store import Store

# Each command imports what it needs inside it: `inkling --help` or a one-line command
# should not pay for loading the database layer, the web stack and the classifier.

LOG_LEVELS = ("debug", "info", "warning", "error")


def settings(**overrides: object) -> Settings:
    """The settings, with the command line's values (those given) winning.

    A value the settings refuse is named by its option (``--base-url``), not by the
    setting it overrides: the person typed the option.
    """
    from inkling.config import load_settings

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return load_settings(**given)
    except ConfigError as exc:
        option = _refused_option(given)
        if option is None:
            raise
        _, _, why = str(exc).partition("): ")
        raise ConfigError(f"bad value for --{option.replace('_', '-')}: {why or exc}") from exc


def _refused_option(given: dict[str, object]) -> str | None:
    """The option whose value alone the settings refuse (None: the environment or the
    configuration file is at fault, whatever the options)."""
    from inkling.config import load_settings

    try:
        load_settings()
    except ConfigError:
        return None
    for name, value in given.items():
        try:
            load_settings(**{name: value})
        except ConfigError:
            return name
    return None


def register(app: typer.Typer) -> None:
    app.command(cls=PlainCommand)(serve)
    app.command(cls=PlainCommand)(demo)
    app.command(cls=PlainCommand)(status)


#: ``--host`` and ``--port`` as serve and demo take them (None: the settings' value).
Host = Annotated[
    str | None,
    typer.Option(
        metavar="HOST",
        help="Interface to listen on (INKLING_HOST).",
        show_default="127.0.0.1",
    ),
]
Port = Annotated[
    int | None,
    typer.Option(metavar="PORT", help="Port to listen on (INKLING_PORT).", show_default="8080"),
]


def serve(
    host: Host = None,
    port: Port = None,
    log_level: Annotated[
        str,
        typer.Option(metavar="LEVEL", help="How much to log: debug, info, warning or error."),
    ] = "info",
    log_format: Annotated[
        str | None,
        typer.Option(
            metavar="FORMAT",
            help="Log lines as text, or as json: one JSON object per line (INKLING_LOG_FORMAT).",
            show_default="text",
        ),
    ] = None,
    relay_port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            help="Also run the SMTP relay on this port (see docs/relay.md).",
            show_default="no relay",
            min=0,
        ),
    ] = None,
    inbound_port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            help="Also receive bounces and read receipts (the MX of INKLING_RETURN_DOMAIN) "
            "on this port (see docs/inbound.md).",
            show_default="no inbound MX",
            min=0,
        ),
    ] = None,
) -> None:
    """Run the tracker, the API and the dashboard on HOST:PORT.

    The tracker answers the pixel and the redirect of every tracked link; the loader
    moves recorded hits into the database. Also the SMTP relay with --relay-port, the
    inbound MX with --inbound-port, and the IMAP poller when INKLING_IMAP_URL is set.
    """
    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    chosen = settings(host=host, port=port, log_format=log_format)
    run_node(chosen, log_level, relay_port, inbound_port)


def run_node(
    chosen: Settings,
    log_level: str = "info",
    relay_port: int | None = None,
    inbound_port: int | None = None,
) -> None:
    """Serve with ``chosen`` until stopped: what ``inkling serve`` and ``inkling demo`` run."""
    import uvicorn

    from inkling import logs, root
    from inkling.root import local_base_url_warning, open_services

    logs.configure(log_level, chosen.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    tell, warn = _voices(chosen.log_format)
    services = open_services(chosen)
    node = root.node(
        chosen, services, relay_port=relay_port, inbound_port=inbound_port, announce=tell
    )
    check_can_listen(chosen.host, chosen.port)  # the settings' own errors come first
    node.open()
    warning = local_base_url_warning(chosen)
    if warning and relay_port is not None:  # relayed mail would carry links nobody can reach
        warn(printable(warning))
    elsewhere = _other_local_port(chosen.base_url, chosen.port)
    if elsewhere:
        warn(printable(elsewhere))
    tell(
        f"Inkling on http://{printable(chosen.host)}:{chosen.port}  (links point at "
        f"{printable(chosen.base_url)}, data in {printable(chosen.data_dir)}, "
        f"durability {chosen.durability})"
    )
    uvicorn.run(
        node.app(),
        host=chosen.host,
        port=chosen.port,
        loop="uvloop",
        http="httptools",
        log_level=log_level.lower(),
        log_config=logs.uvicorn_config(chosen.log_format),
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
        # X-Forwarded-For is judged by Inkling itself, against trusted_proxies only
        proxy_headers=False,
    )


def _voices(log_format: str) -> tuple[Callable[[str], None], Callable[[str], None]]:
    """How a node says what it runs, and warns: plain lines on stderr; with JSON logs,
    log records instead, so that every line it writes is JSON."""
    if log_format == "json":
        said = logging.getLogger("inkling.serve")
        return said.info, said.warning
    return say, lambda line: say(f"inkling: warning: {line}")


def demo(
    host: Host = None,
    port: Port = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only fill the data dir; do not start serving.")
    ] = False,
) -> None:
    """Fill a fresh data dir with a month of support, and serve it.

    Three teams in three time zones, 20 agents, 2,000 tickets and 6,000 replies, with
    what came back on them, through the real import, classifier and playbook. Prints the
    dashboard's address and a lead's login (a new password each run). A data dir the
    demo filled before is only served; one holding other data is refused.
    """
    import os
    import time

    from inkling import root
    from inkling.demo import SEED, Freshness, fill, freshness, renew_password, write_settings

    first = settings(host=host, port=port)
    services = root.open_services(first)
    found = freshness(services.store)
    where = printable(services.data_dir.path)
    if found is Freshness.OTHER:
        fail(
            f"the data dir {where} holds data already; the demo fills a fresh one, e.g. "
            "INKLING_DATA_DIR=demo-data inkling demo",
            code=2,
        )
    if not no_serve:
        check_can_listen(first.host, first.port)
    own_database = first.database_url if "INKLING_DATABASE_URL" not in os.environ else None
    config = write_settings(services.data_dir.path, own_database)
    os.environ["INKLING_CONFIG"] = str(config)  # this command, and the node it serves
    chosen = settings(host=host, port=port)
    teams = root.team_book(chosen)
    if found is Freshness.EMPTY:
        say(f"demo: filling {where} with a month of Acme's support (seed {SEED}) ...")
        began = time.perf_counter()
        with _demo_progress() as progress:
            filled = fill(services.store, root.importer(chosen, services), teams, progress=progress)
        _say_filled(filled, time.perf_counter() - began)
        password = filled.password
    else:
        say(f"demo data: already there in {where} (remove it for a fresh month)")
        password = renew_password(services.store)
    _say_glance(services, teams)
    _say_login(chosen, config, password, serving=not no_serve)
    if not no_serve:
        run_node(chosen)


@contextmanager
def _demo_progress() -> Iterator[Callable[[int, int], None] | None]:
    """A Rich progress bar on stderr, when it is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("tickets, replies and what came back", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _say_filled(filled: Filled, seconds: float) -> None:
    say(
        f"demo data: {filled.teams} teams, {filled.agents} agents and a lead; "
        f"{filled.tickets:,} tickets ({filled.open_tickets:,} open), {filled.replies:,} "
        f"replies and {filled.events:,} signals on them, in {seconds:.1f} s"
    )
    say("start with these (inkling reading MESSAGE tells the whole story):")
    for story in filled.stories:
        say(f"  {story.message}  {story.subject} (to {story.to}, ticket {story.ticket['id']})")


def _say_glance(services: Services, teams: TeamBook) -> None:
    """The queue and the content flags, as the real playbook and reports see them."""
    import time

    from inkling.demo import glance

    seen = glance(services.store, teams, time.time())
    actions = ", ".join(f"{n} {action}" for action, n in seen.actions.most_common())
    say(f"the queue: {seen.due_now} due now, {seen.waiting} waiting ({actions})")
    for what, flags in seen.flagged:
        say(f"  flagged on the Content page: {printable(what)}: {', '.join(flags)}")


def _say_login(chosen: Settings, config: Path, password: str, *, serving: bool) -> None:
    from inkling.demo import LEAD

    variable = f"INKLING_CONFIG={printable(config)}"
    say(f"settings: {printable(config)} (other commands: {variable} inkling queue)")
    url = f"http://{printable(chosen.host)}:{chosen.port}/"
    if not serving:
        say(f"serve it with: {variable} inkling serve")
    say(f"dashboard: {url}  sign in as {LEAD} with password {password} (shown only now)")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """The journal's backlog, the database, the queue.

    An operator's view of this data dir, with or without a server running on it: how many
    recorded hits are not in the database yet, and why; how many tickets are open and
    how many webhook deliveries wait.
    """
    from inkling.events.status import journal_status
    from inkling.root import open_services

    chosen = settings()
    services = open_services(chosen)
    found = journal_status(services.data_dir.journal, services.store.events)
    reachable = found["database"]["reachable"]
    found["queue"] = _queue(services.store if reachable else None)
    found["leases"] = _leases(services.store, time.time()) if reachable else []
    if as_json:
        print(dumps(found, indent=2))
        return
    database, journal = found["database"], found["journal"]
    print(
        "database: reachable"
        if database["reachable"]
        else f"database: unreachable ({printable(database['error'])})"
    )
    for line in _journal_lines(journal, database_reachable=database["reachable"]):
        print(line)
    queue = _queue_line(found["queue"])
    if queue:
        print(queue)
    for lease in found["leases"]:
        held = "held by" if lease["held"] else "last held by"
        print(
            f"{printable(lease['name'])}: {held} {printable(lease['holder'])} "
            f"until {lease['until']}"
        )
    print(f"data dir: {printable(services.data_dir.path)}")


def _queue(store: Store | None) -> dict[str, Any]:
    """The open tickets and the webhook outbox's deliveries by state (``pending``,
    ``failed``); None for what the database did not say (or ``store`` None: unreachable)."""
    from inkling.errors import StoreError
    from inkling.store.webhooks import Webhooks

    found: dict[str, Any] = {"open_tickets": None, "webhook_outbox": None}
    if store is None:
        return found
    try:
        found["open_tickets"] = store.tickets.count_open()
        outbox = Webhooks(store.database).outbox_counts()
    except StoreError:
        return found
    found["webhook_outbox"] = {state.value: count for state, count in outbox.items()}
    return found


def _queue_line(queue: dict[str, Any]) -> str | None:
    """The queue's part of ``inkling status``, when there is a ticket or a delivery to
    tell of (a fresh data dir prints no such line)."""
    tickets, outbox = queue["open_tickets"], queue["webhook_outbox"]
    if not tickets and not (outbox and any(outbox.values())):
        return None
    line = f"queue: {_count(tickets or 0, 'open ticket')}"
    if outbox is not None:
        line += (
            f"; webhook outbox: {_count(outbox['pending'], 'delivery', 'deliveries')} "
            f"pending, {outbox['failed']} given up"
        )
    return line


def _leases(store: Store, now: float) -> list[dict[str, Any]]:
    """Who does the work one node at a time does (webhooks, due, purge, imap), and until
    when; a lease past its time is nobody's now."""
    from inkling.errors import StoreError
    from inkling.times import iso

    try:
        leases = store.leases.all()
    except StoreError:
        return []
    return [
        {
            "name": lease.name,
            "holder": lease.holder,
            "until": iso(lease.expires_at),
            "held": lease.expires_at > now,
        }
        for lease in leases
    ]


def _journal_lines(journal: dict[str, Any], *, database_reachable: bool) -> list[str]:
    """The journal's part of ``inkling status``: its backlog, and what will load it."""
    backlog = journal["backlog_events"]
    line = (
        f"journal: {_count(journal['segments'], 'segment')}, {_count(backlog, 'hit')} "
        f"not yet loaded ({_count(journal['backlog_bytes'], 'byte')})"
    )
    if journal["oldest"]:
        line += f", the oldest from {journal['oldest']}"
    if journal["in_use"]:
        line += "; a server is running on it"
    if not backlog:
        return [line]
    loader = "the running server" if journal["in_use"] else "inkling serve"
    when = "" if database_reachable else " once the database is reachable"
    return [line, f"  they are safe in the journal; {loader} loads them{when}"]


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"


def check_can_listen(host: str, port: int) -> None:
    """One clear line, before anything is opened, when HOST:PORT cannot be listened on
    (uvicorn would log an ERROR line after start-up and exit with status 3)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            hint = (
                " (is another inkling serve running? choose another with --port)"
                if exc.errno == errno.EADDRINUSE
                else ""
            )
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}")


def _other_local_port(base_url: str, port: int) -> str | None:
    """A warning when links point at this machine but at another port than the one served:
    every click would fail (a --port given without INKLING_BASE_URL)."""
    parts = urlsplit(base_url)
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    try:
        linked = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if not loopback or linked == port:
        return None
    return (
        f"links point at {base_url} but this server listens on port {port}; "
        "set INKLING_BASE_URL to the address it is reached at"
    )
