"""Webhook subscriptions: ``inkling webhooks add``, ``list``, ``remove`` and ``test``.

Adding and removing a subscription are admin actions: each is written to the audit log
(actor ``cli``), with the endpoint's URL but never its secret (nor a password or query
the URL may carry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import fail, printable, say
from inkling.cli.serving import settings

if TYPE_CHECKING:
    from inkling.store import Store
    from inkling.store.webhooks import Webhooks

webhooks_app = typer.Typer(
    help="Webhooks: signed POSTs to your endpoints when signals arrive.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")


def _store() -> Store:
    from inkling.root import open_services

    return open_services(settings()).store


def _webhooks(store: Store | None = None) -> Webhooks:
    from inkling.store.webhooks import Webhooks

    return Webhooks((store or _store()).database)


@webhooks_app.command("add", cls=PlainCommand)
def add(
    url: Annotated[str, typer.Argument(metavar="URL", help="The endpoint (http or https).")],
    events: Annotated[
        str,
        typer.Option(
            "--events",
            metavar="TYPES",
            help="Comma-separated event types (message.clicked,message.replied), or * for "
            "all; see docs/webhooks.md.",
        ),
    ] = "*",
) -> None:
    """Subscribe URL to events; prints its id and signing secret.

    The secret (whsec_...) is shown only this once: give it to the receiver, which
    verifies each request with it.
    """
    from inkling.webhooks import check_url, parse_types, subscribe

    types, endpoint = parse_types(events), check_url(url)  # before the database is opened
    store = _store()
    subscription = subscribe(_webhooks(store), endpoint, types)
    where = _without_credentials(subscription.url)
    store.audit.record("cli", "webhooks.add", subscription.id, {"url": where, "types": list(types)})
    print(f"id: {subscription.id}")
    print(f"secret: {subscription.secret}")
    say(
        f"subscribed {printable(subscription.url)} to {', '.join(subscription.types)}; "
        "the secret is shown only this once"
    )


@webhooks_app.command("list", cls=PlainCommand)
def list_subscriptions() -> None:
    """The subscriptions, with their deliveries pending and given up on."""
    rows = _webhooks().counts()
    if not rows:
        say("no webhook subscriptions; add one with: inkling webhooks add URL --events TYPES")
        return
    for row in rows:
        sub = row.subscription
        print(
            f"{sub.id}  {printable(sub.url)}  events={','.join(sub.types)}  "
            f"pending={row.pending}  failed={row.failed}"
        )
        if row.last_error and (row.pending or row.failed):
            print(f"    last error: {printable(row.last_error)}")


@webhooks_app.command("remove", cls=PlainCommand)
def remove(
    ident: Annotated[str, typer.Argument(metavar="ID", help="The subscription's id.")],
) -> None:
    """Remove a subscription and drop its undelivered events."""
    store = _store()
    if not _webhooks(store).remove(ident):
        fail(f"no webhook subscription {ident!r}; see inkling webhooks list")
    store.audit.record("cli", "webhooks.remove", ident)
    say(f"removed {printable(ident)}; nothing more goes to it")


@webhooks_app.command("test", cls=PlainCommand)
def test(
    ident: Annotated[str, typer.Argument(metavar="ID", help="The subscription's id.")],
) -> None:
    """Send a test event to a subscription now.

    Sends webhook.test past the outbox and prints what the receiver answered.
    """
    from inkling.webhooks import send_test

    subscription = _webhooks().get(ident)
    if subscription is None:
        fail(f"no webhook subscription {ident!r}; see inkling webhooks list")
    answer = send_test(subscription)
    print(printable(answer.describe()))
    if not answer.ok:
        fail(f"{printable(subscription.url)} did not accept the test event")


def _without_credentials(url: str) -> str:
    """The URL without user, password or query: what the audit log may keep of it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
