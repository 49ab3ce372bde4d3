"""The ``inkling`` command. Settings are read here, once, and passed down."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from inkling.api.keys import ApiKeys
from inkling.config import Settings, load_settings
from inkling.errors import ConfigError, InklingError
from inkling.services import Services
from inkling.tokens import KEY_FILE, KeyFile, new_message_id

if TYPE_CHECKING:
    from inkling.server import Companion

# Each command imports what only it needs inside it: a one-line command should not pay
# for loading the web stack, the relay and the classifier's tables.

app = typer.Typer(
    name="inkling",
    help="Honest email tracking for customer-support teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(
    help="Token keys: rotate them without breaking old links.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
ranges_app = typer.Typer(
    help="Published IP ranges (Apple, Google, Microsoft, Amazon) used to judge hits.",
    no_args_is_help=True,
)
app.add_typer(ranges_app, name="ranges")
users_app = typer.Typer(help="API users and their keys (for /api/v1).", no_args_is_help=True)
app.add_typer(users_app, name="users")


def main() -> None:
    """Entry point: runs the app and turns Inkling's errors into one clear line."""
    try:
        app()
    except ConfigError as exc:
        _fail(str(exc), code=2)
    except InklingError as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 1) -> NoReturn:
    _say(f"inkling: {message}")
    raise SystemExit(code)


def _say(line: str) -> None:
    """One plain line on stderr (never re-wrapped, so it can be grepped)."""
    print(line, file=sys.stderr, flush=True)


def _settings(**overrides: object) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
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
    """Run the tracker (pixel and redirect) on HOST:PORT (default 127.0.0.1:8080); the SMTP
    relay with --relay-port, the inbound MX with --inbound-port, and the IMAP poller when
    INKLING_IMAP_URL is set."""
    import uvicorn

    from inkling.server import build_app

    settings = _settings(host=host, port=port)
    if relay_port is not None and not settings.relay_upstream:
        raise ConfigError(
            "--relay-port needs INKLING_RELAY_UPSTREAM (relay_upstream in inkling.toml), "
            "the mail server to forward to"
        )
    if inbound_port is not None and not settings.return_domain:
        raise ConfigError(
            "--inbound-port needs INKLING_RETURN_DOMAIN (return_domain in inkling.toml), "
            "the domain it receives mail for"
        )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    services = Services.open(settings)
    _say(
        f"Inkling on http://{settings.host}:{settings.port}  (links point at {settings.base_url}, "
        f"data in {settings.data_dir})"
    )
    companions = []
    if relay_port is not None:
        companions.append(_relay(services, settings, relay_port))
    if inbound_port is not None:
        companions.append(_inbound(services, settings, inbound_port))
    if settings.imap_url:
        companions.append(_imap(services, settings))
    uvicorn.run(
        build_app(services, companions),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
        # X-Forwarded-For is judged by Inkling itself, against trusted_proxies only
        proxy_headers=False,
    )


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only add the demo data; do not start serving.")
    ] = False,
) -> None:
    """Add five demo messages and what happened to them (once), then run ``serve``."""
    from inkling.demo import seed

    settings = _settings(host=host, port=port)
    seeded = seed(Services.open(settings), settings.base_url)
    _say(
        "demo data: already there"
        if seeded.already
        else f"demo data: {len(seeded.stories)} support replies and what happened to them"
    )
    for story, ident in seeded.stories:
        _say(f"  inkling reading {ident}    # {story.subject} (to {story.to})")
    if not no_serve:
        serve(host=host, port=port)


def _relay(services: Services, settings: Settings, port: int) -> Companion:
    """The SMTP relay as a companion of the tracker: started and stopped with it."""

    def start() -> Callable[[], None]:
        from inkling.relay import start_relay

        handle = start_relay(services, settings, host=settings.host, port=port)
        upstream = urlsplit(settings.relay_upstream or "")
        _say(
            f"SMTP relay on {handle.host}:{handle.port}, forwarding to "
            f"{upstream.hostname}:{upstream.port}"
        )
        return handle.stop

    return start


def _inbound(services: Services, settings: Settings, port: int) -> Companion:
    """The inbound MX as a companion: bounces and receipts become events."""

    def start() -> Callable[[], None]:
        from inkling.inbound.recording import InboundRecorder
        from inkling.inbound.server import start_inbound

        domain = settings.return_domain or ""
        recorder = InboundRecorder(services.store, services.codec, domain, via="SMTP")
        handle = start_inbound(
            recorder.deliver,
            host=settings.host,
            port=port,
            return_domain=domain,
            max_bytes=settings.max_message_bytes,
        )
        _say(f"inbound mail for {domain} on {handle.host}:{handle.port}")
        return handle.stop

    return start


def _imap(services: Services, settings: Settings) -> Companion:
    """The read-only IMAP poller as a companion: replies become events."""

    def start() -> Callable[[], None]:
        from inkling.inbound.imap import ImapPoller
        from inkling.inbound.recording import InboundRecorder

        recorder = InboundRecorder(
            services.store, services.codec, settings.return_domain, via="IMAP"
        )
        poller = ImapPoller(
            settings.imap_url or "",
            recorder.deliver,
            settings.data_dir / "imap-state.json",
            interval=settings.imap_interval,
            max_bytes=settings.max_message_bytes,
        )
        poller.start()
        where = urlsplit(settings.imap_url or "")
        _say(f"watching {where.hostname}{where.path or '/INBOX'} for replies (read-only)")
        return poller.stop

    return start


@app.command()
def instrument(
    file: Annotated[
        Path, typer.Argument(help="The message (.eml), or - for stdin.", allow_dash=True)
    ],
    workflow: Annotated[str | None, typer.Option(help="Workflow the message belongs to.")] = None,
    ticket: Annotated[str | None, typer.Option(help="Helpdesk ticket id.")] = None,
    base_url: Annotated[str | None, typer.Option(help="Public tracker URL for the links.")] = None,
) -> None:
    """Register a message and write its tracked MIME to stdout."""
    from inkling.instrument import instrument_message
    from inkling.store import MessageRecord

    settings = _settings(base_url=base_url)
    raw = _read_input(file)
    services = Services.open(settings)
    sent_at = int(time.time())
    result = instrument_message(
        raw,
        codec=services.codec,
        base_url=settings.base_url,
        message=new_message_id(),
        sent_at=sent_at,
        max_bytes=settings.max_message_bytes,
    )
    record = MessageRecord(
        id=result.message,
        message_id=result.message_id,
        workflow=workflow,
        ticket=ticket,
        subject=result.subject,
        sent_at=sent_at,
        links_total=len(result.links),
    )
    services.store.register_message(record, result.links)
    for warning in result.warnings:
        _say(f"inkling: warning: {warning}")
    if result.html_parts == 0:
        _say("inkling: warning: no HTML part, so no open pixel")
    _say(
        f"inkling: registered {result.message_id} as {result.message} "
        f"({len(result.links)} tracked links)"
    )
    sys.stdout.buffer.write(result.mime)
    sys.stdout.buffer.flush()


@app.command()
def reading(
    message: Annotated[str, typer.Argument(help="Message-ID header value or Inkling's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    limit: Annotated[int | None, typer.Option(help="Show at most this many events.", min=0)] = None,
) -> None:
    """What happened to one message after it was sent."""
    from inkling.signals.reading import read_message

    services = Services.open(_settings())
    result = read_message(services.store, message, limit=limit)
    if as_json:
        print(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        return
    out = Console()
    # Everything below came from outside (a Message-ID, a URL, a user agent): shown as
    # plain Text, so "[...]" in it is never read as Rich markup.
    title = Text(result.message.message_id, style="bold")
    title.append(f"  (Inkling id {result.message.id})", style="")
    out.print(title)
    out.print(Text(result.sentence))
    table = Table(box=None)
    for name in ("when", "kind", "verdict", "agent", "link", "client"):
        table.add_column(name, overflow="fold")
    for event in result.as_json()["events"]:
        link = "hidden link (honeypot)" if event["honeypot"] else event["url"]
        cells = (
            event["ts"].replace("T", " ").rstrip("Z"),
            event["kind"],
            event["verdict"],
            event["agent"],
            _shorten(link, 40),
            _shorten(event["user_agent"], 40),
        )
        table.add_row(*(Text(str(value or "")) for value in cells))
    if result.events:
        out.print(table)


@app.command()
def classify(
    jsonl: Annotated[
        Path,
        typer.Option(
            "--jsonl", help="Hits, one JSON object a line, or - for stdin.", allow_dash=True
        ),
    ],
) -> None:
    """Judge hits: one {"message", "verdict", "agent", "reasons"} line per input line."""
    from inkling.classify import Classifier
    from inkling.classify.lines import classify_lines

    settings = _settings()
    classifier = Classifier.for_data_dir(settings.data_dir)
    text = _read_input(jsonl).decode("utf-8", errors="replace")
    bad = 0
    out = sys.stdout
    for result in classify_lines(text.splitlines(), classifier):
        if "error" in result:
            bad += 1
            _say(f"inkling: line {result['line']}: {result['error']}")
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    out.flush()
    if bad:
        _fail(f"{bad} line(s) were not hits; each got an error object in the output")


@app.command()
def parse(
    files: Annotated[list[Path], typer.Argument(help="Inbound messages (.eml), one or more.")],
) -> None:
    """Classify inbound mail: one {"file", "kind", ...} JSON line per file."""
    from inkling.inbound import parse_message

    unreadable = 0
    out = sys.stdout
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            unreadable += 1
            line: dict[str, object] = {"file": str(file), "error": exc.strerror or str(exc)}
        else:
            line = {"file": str(file), **parse_message(raw).as_json()}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    out.flush()
    if unreadable:
        raise typer.Exit(1)


@ranges_app.command("update")
def ranges_update(
    directory: Annotated[
        Path, typer.Argument(help="Directory with apple-proxy-ipv4.txt, google-ipv6.txt, ...")
    ],
    snapshot: Annotated[
        str | None, typer.Option(help="Date the ranges were taken (default: today).")
    ] = None,
) -> None:
    """Install fresher published ranges; verdicts name the snapshot they used."""
    from inkling.classify import ranges

    settings = _settings()
    counts = ranges.update(directory, settings.data_dir, snapshot=snapshot)
    installed = ranges.Networks.load(settings.data_dir / "ranges")
    _say(
        f"installed {sum(counts.values())} ranges from {len(counts)} files "
        f"(snapshot {installed.snapshot}); restart inkling serve to use them"
    )


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="Who the key is for.")]) -> None:
    """Make an API key for NAME and print it (it is shown only this once)."""
    keys = ApiKeys.for_data_dir(_settings().data_dir)
    print(keys.add(name))
    _say(f"API key for {name} printed above; send it as 'Authorization: Bearer <key>'")


@users_app.command("list")
def users_list() -> None:
    """The users who have an API key."""
    for name in ApiKeys.for_data_dir(_settings().data_dir).names():
        print(name)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="Whose key to revoke.")]) -> None:
    """Revoke NAME's API key at once."""
    ApiKeys.for_data_dir(_settings().data_dir).remove(name)
    _say(f"removed {name}; their key no longer works")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a fresh key current. Links made earlier keep working with their own key."""
    settings = _settings()
    key_file = KeyFile(settings.data_dir / KEY_FILE)
    if not key_file.path.exists():
        key_file.create()
    ident = key_file.rotate()
    older = len(key_file.read().secrets) - 1
    _say(f"key {ident} is now current for new links; {older} older key(s) still open old links")


def _shorten(text: str | None, width: int) -> str | None:
    return text if text is None or len(text) <= width else text[: width - 1] + "…"


def _read_input(file: Path) -> bytes:
    if str(file) == "-":
        return sys.stdin.buffer.read()
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InklingError(f"cannot read {file}: {exc.strerror}") from exc
