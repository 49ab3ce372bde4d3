"""``inkling users`` as an admin runs it: users and keys made, listed, revoked and removed,
each change in the audit log; a key is printed once and kept nowhere; keys of an older
users.json carry on; and ``inkling serve`` signs a user in and takes the keys."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from inkling.api.keys import ApiKeys, digest
from inkling.cli.app import app
from inkling.datadir import DataDir
from inkling.store import Store
from tests.e2e.server import ServerProcess
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow
PASSWORD = b"a long enough password\n"


def _ok(done: subprocess.CompletedProcess[bytes]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stderr.decode()


def _refused(done: subprocess.CompletedProcess[bytes]) -> str:
    """The one line of a usage error (exit 2), nothing on stdout."""
    assert (done.returncode, done.stdout) == (2, b""), done
    assert done.stderr.startswith(b"inkling: ") and done.stderr.count(b"\n") == 1
    return done.stderr.decode().strip()


def _store(data_dir: Path) -> Store:
    return Store(DataDir(data_dir).sqlite_url)


def test_users_and_keys_from_the_command_line(data_dir: Path) -> None:
    made = inkling(
        data_dir, "users", "create", "--email", "Ana@Help.example", "--role", "agent",
        "--team", "billing", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert "made ana@help.example (agent of billing)" in _ok(made)
    key = inkling(data_dir, "users", "key", "create", "zendesk", "--scope", "tickets:write")
    secret = key.stdout.decode().strip()
    assert re.fullmatch(r"ink_[\w-]{43}", secret), key.stdout
    assert "shown only this once (scopes=tickets:write)" in _ok(key)
    keys = inkling(data_dir, "users", "key", "list").stdout.decode()
    assert keys.startswith("zendesk  id=") and "scopes=tickets:write  owner=-" in keys
    assert secret not in keys
    _ok(inkling(data_dir, "users", "key", "revoke", "zendesk"))
    _ok(inkling(data_dir, "users", "remove", "ANA@help.example"))
    store = _store(data_dir)
    entries = [(e.actor, e.action, e.target) for e in store.audit.entries()]
    assert entries == [
        ("cli", "users.create", "ana@help.example"),
        ("cli", "keys.create", "zendesk"),
        ("cli", "keys.revoke", "zendesk"),
        ("cli", "users.remove", "ana@help.example"),
    ]
    assert store.accounts.users() == [] and store.accounts.api_keys() == []
    assert secret not in (data_dir / "inkling.db").read_bytes().decode("latin-1")
    store.close()


def _run(data_dir: Path, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    """A command in this process (the same code, without a process's start-up second)."""
    runner = CliRunner(env={"INKLING_DATA_DIR": str(data_dir), "INKLING_CONFIG": None})
    done = runner.invoke(app, list(args), input=stdin)
    return done.exit_code, done.stdout, done.stderr


def test_bad_input_is_one_line_and_changes_nothing(data_dir: Path) -> None:
    refusals = [
        (("users", "create", "--email", "b@help.example", "--role", "boss"), None,
         "inkling: --role must be one of agent, lead, admin, not 'boss'"),
        (("users", "create", "--email", "b@help", "--role", "admin"), None,
         "inkling: --email must be an email address, not 'b@help'"),
        (("users", "create", "--email", "b@help.example", "--role", "agent"), None,
         "inkling: an agent sees only their teams' tickets: give at least one --team"),
        (("users", "create", "--email", "b@help.example", "--role", "admin",
          "--password-stdin"), b"short\n",
         "inkling: a password needs at least 10 characters; nothing changed"),
        (("users", "key", "create", "x", "--scope", "tickets"), None,
         "inkling: --scope: unknown scope 'tickets'; the scopes: messages:read, "),
        (("users", "key", "create", "a b", "--scope", "*"), None,
         "inkling: NAME is 1 to 64 letters, digits and . _ @ -"),
        (("users", "key", "create", "x", "--scope", "tickets:write", "--owner",
          "ana@help.example"), None,
         "inkling: --owner ana@help.example is an agent: their key cannot hold tickets:write "
         "(an agent holds messages:read, queue:read, tickets:read)"),
        (("users", "key", "revoke", "zendesk"), None,
         "inkling: no API key named 'zendesk'; see inkling users key list"),
        (("users", "remove", "no@help.example"), None, "inkling: no user 'no@help.example'"),
        (("users", "unlock", "no@help.example"), None, "inkling: no user 'no@help.example'"),
    ]  # fmt: skip
    code, _, _ = _run(data_dir, "users", "create", "--email", "ana@help.example", "--role",
                      "agent", "--team", "billing")  # fmt: skip
    assert code == 0
    for args, stdin, line in refusals:
        code, out, err = _run(data_dir, *args, stdin=stdin)
        assert (code, out) == (2, ""), (args, err)
        assert err.startswith(line) and err.count("\n") == 1, (args, err)
    store = _store(data_dir)
    assert [u.email for u in store.accounts.users()] == ["ana@help.example"]
    assert store.accounts.api_keys() == []
    assert [e.action for e in store.audit.entries()] == ["users.create"]
    assert store.accounts.users()[0].password is None  # no terminal, no --password-stdin
    code, _, err = _run(data_dir, "users", "password", "ana@help.example", "--password-stdin",
                        stdin=b"a long enough password\n")  # fmt: skip
    assert code == 0 and "their sessions have ended" in err
    (ana,) = store.accounts.users()
    assert ana.password is not None and ana.password.startswith("$argon2id$")
    assert [e.action for e in store.audit.entries()] == ["users.create", "users.password"]
    store.close()


def test_keys_of_an_older_version_and_users_add_carry_on(data_dir: Path) -> None:
    old = ApiKeys.for_data_dir(data_dir).add("helpdesk")  # users.json, as before scopes
    listed = inkling(data_dir, "users", "key", "list")
    assert "imported 1 API key(s)" in _ok(listed) and "with scope *" in listed.stderr.decode()
    assert listed.stdout.decode().startswith("helpdesk  id=")
    assert "scopes=*" in listed.stdout.decode()
    added = inkling(data_dir, "users", "add", "script")
    assert "users add is now: inkling users key create script --scope '*'" in _ok(added)
    store = _store(data_dir)
    assert [(k.name, k.scopes) for k in store.accounts.api_keys()] == [
        ("helpdesk", ("*",)),
        ("script", ("*",)),
    ]
    assert store.accounts.key_for_digest(digest(old)) is not None
    store.close()


def test_serve_signs_a_user_in_and_takes_their_keys(data_dir: Path) -> None:
    _ok(
        inkling(
            data_dir,
            "users",
            "create",
            "--email",
            "sam@help.example",
            "--role",
            "lead",
            "--password-stdin",
            stdin=PASSWORD,
        )
    )
    key = inkling(
        data_dir, "users", "key", "create", "sam-script", "--scope", "*",
        "--owner", "sam@help.example",
    ).stdout.decode().strip()  # fmt: skip
    server = ServerProcess(data_dir)
    try:
        with httpx.Client(base_url=server.url) as browser:
            form = browser.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token, form.text
            fields = {"email": "sam@help.example", "password": PASSWORD.decode().strip()}
            signed = browser.post("/login", data=fields | {"csrf_token": token.group(1)})
            assert signed.status_code == 303
            home = browser.get("/")
            assert "sam@help.example" in home.text and "(lead)" in home.text
            assert browser.get("/api/v1/queue").status_code == 200  # the session opens the API
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{server.url}/api/v1/queue", headers=auth).status_code == 200
        purge = httpx.post(f"{server.url}/api/v1/purge", headers=auth)
        assert purge.status_code == 403  # a lead's key holds no privacy:admin
        _ok(inkling(data_dir, "users", "key", "revoke", "sam-script"))
        assert httpx.get(f"{server.url}/api/v1/queue", headers=auth).status_code == 401
    finally:
        server.stop()


def test_webhook_subscriptions_are_audited_without_their_secrets(data_dir: Path) -> None:
    url = "https://hook:pa55@hooks.example/inkling?token=t0k3n"
    added = inkling(data_dir, "webhooks", "add", url, "--events", "message.clicked")
    ident = re.search(r"id: (\S+)", added.stdout.decode())
    secret = re.search(r"secret: (\S+)", added.stdout.decode())
    assert ident and secret, added
    _ok(inkling(data_dir, "webhooks", "remove", ident.group(1)))
    store = _store(data_dir)
    first, second = store.audit.entries()
    assert (first.action, first.target, first.details) == (
        "webhooks.add",
        ident.group(1),
        {"url": "https://hooks.example/inkling", "types": ["message.clicked"]},
    )
    assert (second.actor, second.action, second.target) == (
        "cli",
        "webhooks.remove",
        ident.group(1),
    )
    assert secret.group(1) not in repr(store.audit.entries())
    store.close()
