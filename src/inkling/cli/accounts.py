"""Accounts and API keys: ``inkling users create|list|remove|unlock|password`` and
``inkling users key create|list|revoke``.

Each change is written to the audit log with ``cli`` as the actor (whoever runs commands
on the server). Secrets are shown once: a key when it is made; a password is never shown,
and read from stdin (``--password-stdin``) or a hidden prompt on a terminal.
"""

from __future__ import annotations

import getpass
import re
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import fail, printable, say
from inkling.cli.serving import settings

if TYPE_CHECKING:
    from inkling.root import Services
    from inkling.store.accounts import ApiKey, User

users_app = typer.Typer(
    help="Dashboard users (agent, lead, admin) and API keys with scopes.\n\n"
    "See docs/access.md for the roles and the scopes.",
    no_args_is_help=True,
)
key_app = typer.Typer(help="API keys: for /api/v1, with scopes.", no_args_is_help=True)
users_app.add_typer(key_app, name="key")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

Email = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's email address.")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin (no prompt)."
    ),
]


def _services() -> Services:
    from inkling.root import open_services

    return open_services(settings())


def _import_legacy(services: Services) -> None:
    """Bring the keys of an older ``users.json`` into the database first, as the API does."""
    from inkling.api.keys import LegacyImport

    LegacyImport(
        services.data_dir.users,
        services.store.accounts,
        announce=lambda line: say(f"inkling: {line}"),
    ).run()


@users_app.command("create", cls=PlainCommand)
def create(
    email: Annotated[str, typer.Option(metavar="EMAIL", help="Their email: they sign in with it.")],
    role: Annotated[str, typer.Option(metavar="ROLE", help="agent, lead or admin.")],
    team: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TEAM",
            help="A team whose tickets they see; repeatable (agents need one).",
            show_default="none",
        ),
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Make a user who signs in to the dashboard.

    The password is asked for on a terminal (twice, hidden), or read with
    --password-stdin; without either the user has no password until inkling users
    password EMAIL.
    """
    from inkling.api.access import ROLES, TEAM_BOUND

    address = _email(email)
    teams = _teams(team or [])
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, not {role!r}", code=2)
    if role in TEAM_BOUND and not teams:
        fail(f"{_a(role)} sees only their teams' tickets: give at least one --team", code=2)
    hashed = _new_password(password_stdin)
    services = _services()
    _warn_unknown_teams(teams)
    made = services.store.accounts.add_user(address, role, teams, hashed)
    if made is None:
        fail(f"a user {address} exists; remove it first, or change its password", code=2)
    details = {"role": role, "teams": list(teams), "password": hashed is not None}
    services.store.audit.record("cli", "users.create", address, details)
    said = f"made {printable(address)} ({role}{_of(teams)})"
    say(said if hashed else f"{said} with no password: set one with inkling users password")


@users_app.command("list", cls=PlainCommand)
def list_users() -> None:
    """The users, their roles and teams, and any lockout."""
    services = _services()
    found = services.store.accounts.users()
    if not found:
        say("no users yet; make one with: inkling users create --email E --role admin")
    for user in found:
        print(_user_line(user))


@users_app.command("remove", cls=PlainCommand)
def remove(email: Email) -> None:
    """Remove a user and every API key they own, at once."""
    services = _services()
    accounts = services.store.accounts
    address = email.strip().lower()
    if not accounts.remove_user(address):
        hint = ""
        if accounts.key_named(email) is not None:
            hint = f"; to revoke the API key named so: inkling users key revoke {email}"
        fail(f"no user {email!r}{hint}", code=2)
    services.store.audit.record("cli", "users.remove", address)
    say(f"removed {printable(address)}; their sessions and keys no longer work")


@users_app.command("unlock", cls=PlainCommand)
def unlock(email: Email) -> None:
    """Lift a user's sign-in lockout now.

    Their failed sign-ins are forgotten too.
    """
    services = _services()
    address = email.strip().lower()
    if not services.store.accounts.clear_failures(address):
        fail(f"no user {email!r}; see inkling users list", code=2)
    services.store.audit.record("cli", "users.unlock", address)
    say(f"unlocked {printable(address)}; they can sign in now")


@users_app.command("password", cls=PlainCommand)
def password(email: Email, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; their sessions end.

    Asked for on a terminal (twice, hidden), or read with --password-stdin.
    """
    hashed = _new_password(password_stdin)
    if hashed is None:
        fail("give the password on stdin with --password-stdin, or run this on a terminal", 2)
    services = _services()
    address = email.strip().lower()
    if not services.store.accounts.set_password(address, hashed):
        fail(f"no user {email!r}; see inkling users list", code=2)
    services.store.accounts.clear_failures(address)
    services.store.audit.record("cli", "users.password", address)
    say(f"new password for {printable(address)}; their sessions have ended")


@key_app.command("create", cls=PlainCommand)
def key_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="What the key is for (zendesk).")],
    scope: Annotated[
        list[str],
        typer.Option(metavar="SCOPE", help="A scope it holds (tickets:write); repeatable, or *."),
    ],
    owner: Annotated[
        str | None,
        typer.Option(
            metavar="EMAIL",
            help="A user whose role and teams bound the key (and who owns it).",
            show_default="none: an integration's key",
        ),
    ] = None,
) -> None:
    """Make an API key and print it.

    The key is shown only this once: Inkling keeps only its SHA-256. Send it as
    'Authorization: Bearer KEY'.
    """
    from inkling.api.keys import make_key

    scopes = _scopes(scope)
    if not _KEY_NAME.fullmatch(name):
        fail("NAME is 1 to 64 letters, digits and . _ @ - (starting with a letter or digit)", 2)
    services = _services()
    _import_legacy(services)
    accounts = services.store.accounts
    user = _owner(services, owner, scopes) if owner else None
    made = make_key(accounts, name, scopes, user.email if user else None)
    if made is None:
        fail(f"a key named {name!r} exists; revoke it first, or choose another name", code=2)
    details = {"scopes": list(scopes), "owner": made.record.owner}
    services.store.audit.record("cli", "keys.create", name, details)
    print(made.secret)
    shown = _key_scopes(made.record)
    say(f"API key {printable(name)} printed above, shown only this once ({shown})")


@key_app.command("list", cls=PlainCommand)
def key_list() -> None:
    """The API keys, with their scopes and owners.

    Each with its id, when it was made and last used; never the key itself.
    """
    services = _services()
    _import_legacy(services)
    found = services.store.accounts.api_keys()
    if not found:
        say("no API keys yet; make one with: inkling users key create NAME --scope SCOPE")
    for key in found:
        print(_key_line(key))


@key_app.command("revoke", cls=PlainCommand)
def key_revoke(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The key's name.")],
) -> None:
    """Revoke an API key at once."""
    services = _services()
    _import_legacy(services)
    if not services.store.accounts.revoke_key(name):
        fail(f"no API key named {name!r}; see inkling users key list", code=2)
    services.store.audit.record("cli", "keys.revoke", name)
    say(f"revoked {printable(name)}; it no longer works")


@users_app.command("add", cls=PlainCommand)
def add(name: Annotated[str, typer.Argument(metavar="NAME", help="What the key is for.")]) -> None:
    """Make a key with every scope: the older form of key create.

    The same as inkling users key create NAME --scope '*' (what users add made before
    keys had scopes).
    """
    say(f"inkling: users add is now: inkling users key create {printable(name)} --scope '*'")
    key_create(name, ["*"])


def _new_password(from_stdin: bool) -> str | None:
    """The hash of a new password from stdin or a terminal prompt; None if neither."""
    from inkling.web.passwords import Passwords, weakness

    if from_stdin:
        given = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        given = getpass.getpass("Password: ")
        if getpass.getpass("The same again: ") != given:
            fail("the two passwords differ; nothing changed", code=2)
    else:
        return None
    problem = weakness(given)
    if problem:
        fail(f"{problem}; nothing changed", code=2)
    return Passwords().hash(given)


def _email(text: str) -> str:
    address = text.strip().lower()
    if not _EMAIL.fullmatch(address) or len(address) > 254:
        fail(f"--email must be an email address, not {text!r}", code=2)
    return address


def _teams(given: list[str]) -> tuple[str, ...]:
    teams: list[str] = []
    for name in (part.strip() for word in given for part in word.split(",")):
        if not name or len(name) > 64 or not name.isprintable():
            fail(f"--team must be a team's name, not {name!r}", code=2)
        if name not in teams:
            teams.append(name)
    return tuple(teams)


def _warn_unknown_teams(teams: tuple[str, ...]) -> None:
    """A warning for a team inkling.toml does not name (its tickets run on default's
    clock, and only an agent of that exact name or of default sees them)."""
    known = {*settings().teams, "default"}
    for name in teams:
        if name not in known:
            say(f"inkling: warning: team {printable(name)!r} is not in inkling.toml [teams]")


def _scopes(given: list[str]) -> tuple[str, ...]:
    from inkling.api.access import parse_scopes

    try:
        return parse_scopes(given)
    except ValueError as exc:
        fail(f"--scope: {exc}", code=2)


def _owner(services: Services, owner: str, scopes: tuple[str, ...]) -> User:
    from inkling.api.access import ROLE_SCOPES, beyond_role

    user = services.store.accounts.user(owner)
    if user is None:
        fail(f"--owner: no user {owner!r}; see inkling users list", code=2)
    beyond = beyond_role(scopes, user.role)
    if beyond:
        holds = ", ".join(sorted(ROLE_SCOPES.get(user.role, ())))
        fail(
            f"--owner {user.email} is {_a(user.role)}: their key cannot hold "
            f"{', '.join(beyond)} ({_a(user.role)} holds {holds})",
            code=2,
        )
    return user


def _user_line(user: User) -> str:
    from inkling.times import iso

    parts = [printable(user.email), user.role, f"teams={printable(','.join(user.teams) or '-')}"]
    parts.append("password=yes" if user.password else "password=no")
    if user.locked_until and user.locked_until > time.time():
        parts.append(f"locked until {iso(user.locked_until)} ({user.failed_logins} failures)")
    return "  ".join(parts)


def _key_line(key: ApiKey) -> str:
    from inkling.times import iso

    used = iso(key.last_used_at) if key.last_used_at else "never"
    return (
        f"{printable(key.name)}  id={key.id}  {_key_scopes(key)}  "
        f"owner={printable(key.owner or '-')}  created={iso(key.created_at)}  last used={used}"
    )


def _key_scopes(key: ApiKey) -> str:
    return f"scopes={','.join(key.scopes)}"


def _of(teams: tuple[str, ...]) -> str:
    return f" of {printable(', '.join(teams))}" if teams else ""


def _a(role: str) -> str:
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"
