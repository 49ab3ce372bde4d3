"""Running a node: ``inkling serve``, ``inkling demo`` and ``inkling status``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from inkling.cli.output import dumps, printable, say

if TYPE_CHECKING:
    from inkling.config import Settings

# Each command imports what it needs inside it: `inkling --help` or a one-line command
# should not pay for loading the database layer, the web stack and the classifier.

LOG_LEVELS = ("debug", "info", "warning", "error")


def settings(**overrides: object) -> Settings:
    """The settings, with the command line's values (those given) winning."""
    from inkling.config import load_settings

    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
    app.command()(status)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on.  [default: 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.  [default: 8080]")] = None,
    log_level: Annotated[
        str, typer.Option(help="How much to log: debug, info, warning or error.")
    ] = "info",
    relay_port: Annotated[
        int | None,
        typer.Option(help="Also run the SMTP relay on this port (see docs/relay.md).", min=0),
    ] = None,
    inbound_port: Annotated[
        int | None,
        typer.Option(
            help="Also receive bounces and read receipts (the MX of INKLING_RETURN_DOMAIN) "
            "on this port (see docs/inbound.md).",
            min=0,
        ),
    ] = None,
) -> None:
    """Run the tracker (pixel and redirect), the API and the loader on HOST:PORT.

    Also the SMTP relay with --relay-port, the inbound MX with --inbound-port, and the
    IMAP poller when INKLING_IMAP_URL is set.
    """
    import uvicorn

    from inkling import root
    from inkling.root import local_base_url_warning, open_services

    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    chosen = settings(host=host, port=port)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    services = open_services(chosen)
    node = root.node(
        chosen, services, relay_port=relay_port, inbound_port=inbound_port, announce=say
    )
    node.open()
    warning = local_base_url_warning(chosen)
    if warning and relay_port is not None:  # relayed mail would carry links nobody can reach
        say(f"inkling: warning: {warning}")
    say(
        f"Inkling on http://{chosen.host}:{chosen.port}  (links point at {chosen.base_url}, "
        f"data in {chosen.data_dir}, durability {chosen.durability})"
    )
    uvicorn.run(
        node.app(),
        host=chosen.host,
        port=chosen.port,
        loop="uvloop",
        http="httptools",
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
        # X-Forwarded-For is judged by Inkling itself, against trusted_proxies only
        proxy_headers=False,
    )


def demo(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on.  [default: 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.  [default: 8080]")] = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only add the demo data; do not start serving.")
    ] = False,
) -> None:
    """Add demo support replies and what happened to them (once), then serve."""
    from inkling import root
    from inkling.demo import seed
    from inkling.root import open_services

    chosen = settings(host=host, port=port)
    services = open_services(chosen)
    seeded = seed(services, root.outbound(chosen, services), root.classifier(services))
    say(
        "demo data: already there"
        if seeded.already
        else f"demo data: {len(seeded.stories)} support replies and what happened to them"
    )
    for story, ident in seeded.stories:
        say(f"  inkling reading {ident}    # {story.subject} (to {story.to})")
    if not no_serve:
        serve(host=host, port=port)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """An operator's view of this data dir: the journal's backlog and the database."""
    from inkling.events.status import journal_status
    from inkling.root import open_services

    chosen = settings()
    services = open_services(chosen)
    found = journal_status(services.data_dir.journal, services.store.events)
    if as_json:
        print(dumps(found, indent=2))
        return
    database = found["database"]
    journal = found["journal"]
    say(
        "database: "
        + ("reachable" if database["reachable"] else f"unavailable ({database['error']})")
    )
    say(
        f"journal: {journal['segments']} segment(s), {journal['backlog_events']} hit(s) not yet "
        f"loaded ({journal['backlog_bytes']} bytes)"
        + (f", oldest from {journal['oldest']}" if journal["oldest"] else "")
        + ("; a server is running on it" if journal["in_use"] else "")
    )
    if journal["backlog_events"] and not journal["in_use"]:
        say("  start `inkling serve` to load them")
    say(f"data dir: {printable(services.data_dir.path)}")
