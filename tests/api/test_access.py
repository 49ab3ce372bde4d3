"""Who may call what on /api/v1: every route refuses a caller without credentials, with a
wrong key, or with a key lacking the route's scope (read from the OpenAPI spec, so a route
added later is walked too); the webhook receivers refuse what is not signed, whatever key
comes with it; an agent sees only their teams; keys are kept as SHA-256 only, revoked
keys stop at once, and keys of an older users.json keep working."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from sqlalchemy import select

from inkling import root
from inkling.api.access import SCOPES
from inkling.api.keys import ApiKeys, make_key
from inkling.api.sessions import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, Sessions
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.model import MessageIdHeader, MessageRecord
from inkling.providers.receivers import PROVIDERS
from inkling.root import Services
from inkling.store import Store
from inkling.store.schema import api_keys, metadata
from inkling.tickets.helpdesk_tables import HELPDESKS
from inkling.tickets.upsert import parse_ticket
from inkling.tokens import TokenCodec, new_message_id
from tests.conftest import FIXTURES

#: Values to try for a path parameter the spec gives no enum for ("x" for the rest).
KNOWN_VALUES = {"helpdesk": HELPDESKS, "provider": PROVIDERS}
METHODS = ("get", "put", "post", "delete", "patch")


class Api:
    """The whole API as ``inkling serve`` builds it, every receiver configured (so that
    refusing one is about its signature, not its settings)."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        sendgrid = ec.generate_private_key(ec.SECP256R1()).public_key()
        public = sendgrid.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        settings = Settings.model_validate(
            {
                "data_dir": data_dir,
                "providers": {
                    "sendgrid": {"public_key": base64.b64encode(public).decode()},
                    "mailgun": {"signing_key": "key-for-this-test"},
                    "postmark": {"username": "postmark", "password": "pass-for-this-test"},
                    "ses": {"topic_arns": ["arn:aws:sns:us-east-1:123456789012:ses"]},
                },
                "integrations": {
                    name: {"token": "token-for-this-test"}
                    if name == "freshdesk"
                    else {"secret": "secret-for-this-test"}
                    for name in HELPDESKS
                },
            }
        )
        self.store = store
        self.services = Services(
            DataDir(data_dir), store, TokenCodec.for_data_dir(data_dir), settings.base_url
        )
        self.app: FastAPI = root.api(settings, self.services)
        self.spec: dict[str, Any] = self.call("GET", "/api/openapi.json").json()

    def key(self, name: str, *scopes: str, owner: str | None = None) -> dict[str, str]:
        made = make_key(self.store.accounts, name, scopes, owner)
        assert made is not None
        return {"Authorization": f"Bearer {made.secret}"}

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())


@pytest.fixture
def api(store: Store, data_dir: Path) -> Api:
    return Api(store, data_dir)


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        if path.startswith("/api/v1/"):
            for method in METHODS:
                if method in item:
                    yield path, method, item[method]


def _urls(path: str, operation: dict[str, Any]) -> list[str]:
    """The path with each parameter filled by every value known for it."""
    names = re.findall(r"{(\w+)", path)
    choices: list[list[str]] = []
    for name in names:
        schema: dict[str, Any] = next(
            (p.get("schema", {}) for p in operation.get("parameters", []) if p["name"] == name),
            {},
        )
        choices.append(list(schema.get("enum") or KNOWN_VALUES.get(name) or ["x"]))
    urls = []
    for values in itertools.product(*choices):
        url = path
        for name, value in zip(names, values, strict=True):
            url = re.sub(r"{" + name + r"(:\w+)?}", value, url)
        urls.append(url)
    return urls


def _scope(operation: dict[str, Any]) -> str:
    """The one scope the operation's security requirement names (every scheme alike)."""
    requirements = operation.get("security") or []
    schemes = {name for requirement in requirements for name in requirement}
    scopes: set[str] = {
        s for requirement in requirements for found in requirement.values() for s in found
    }
    assert schemes == {"apiKey", "dashboardSession"}, operation.get("operationId")
    assert len(scopes) == 1 and scopes <= set(SCOPES), operation.get("operationId")
    return scopes.pop()


def _streams(operation: dict[str, Any]) -> bool:
    return "text/event-stream" in operation.get("responses", {}).get("200", {}).get("content", {})


def test_every_route_refuses_a_caller_without_the_scope(api: Api) -> None:
    operations = list(_operations(api.spec))
    assert len(operations) >= 10  # the walk sees the routes (and a new one joins it)
    wrong = {"Authorization": "Bearer ink_not-a-key-anyone-made"}
    walked = 0
    for path, method, operation in operations:
        if operation.get("x-inkling-auth") == "signature":
            continue  # the next test
        scope = _scope(operation)
        lacking = api.key(f"lacks-{walked}", *(s for s in SCOPES if s != scope))
        for url in _urls(path, operation):
            bare = api.call(method, url)
            assert bare.status_code == 401, (method, url, bare.text)
            assert bare.headers["www-authenticate"] == "Bearer"
            assert "API key is needed" in bare.json()["detail"]
            assert api.call(method, url, headers=wrong).status_code == 401, (method, url)
            refused = api.call(method, url, headers=lacking)
            assert refused.status_code == 403, (method, url, refused.text)
            assert refused.json()["detail"] == f"the key 'lacks-{walked}' lacks the scope {scope}"
            if not _streams(operation):  # the scope named is the one checked
                allowed = api.call(method, url, headers=api.key(f"has-{walked}", scope))
                assert allowed.status_code not in (401, 403), (method, url, allowed.text)
            walked += 1
    assert walked >= 8


def test_the_webhook_receivers_refuse_what_is_not_signed(api: Api) -> None:
    everything = api.key("everything", "*")
    receivers = [
        (path, method, operation)
        for path, method, operation in _operations(api.spec)
        if operation.get("x-inkling-auth") == "signature"
    ]
    assert {path for path, _, _ in receivers} == {
        "/api/v1/providers/{provider}",
        "/api/v1/integrations/{helpdesk}",
    }
    for path, method, operation in receivers:
        assert "security" not in operation  # no API key opens them
        for url in _urls(path, operation):
            for headers in ({}, everything):
                answer = api.call(method, url, json={"event": "open"}, headers=headers)
                assert answer.status_code == 401, (url, answer.text)
    payload = (FIXTURES / "helpdesks" / "zendesk-trigger.json").read_bytes()
    forged = {"X-Zendesk-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl", **everything}
    answer = api.call("POST", "/api/v1/integrations/zendesk", content=payload, headers=forged)
    assert answer.status_code == 401
    assert api.store.tickets.open_threads(0) == []  # nothing was recorded


# Teams: an agent sees their own teams' tickets, queue and messages only.


def _ticket(store: Store, ident: str, team: str) -> MessageRecord:
    store.tickets.upsert(
        parse_ticket(
            {
                "subject": f"Ticket {ident}",
                "priority": "normal",
                "status": "open",
                "team": team,
                "requester": f"customer{ident}@customer.example",
                "created_at": "2026-12-04T10:00:00+01:00",
            },
            ticket_id=ident,
        )
    )
    record = MessageRecord(
        new_message_id(),
        MessageIdHeader(f"<m{ident}@help.example>"),
        None,
        ident,
        f"Re: Ticket {ident}",
        1_796_000_000,
        1,
        recipient=f"customer{ident}@customer.example",
    )
    store.messages.register(record, ["https://help.example/a"])
    return record


@pytest.fixture
def agent(api: Api) -> dict[str, str]:
    """A key owned by an agent of billing: with scope *, it holds what the agent does."""
    _ticket(api.store, "100", "billing")
    _ticket(api.store, "200", "returns")
    api.store.accounts.add_user("ana@help.example", "agent", ["billing"], None)
    return api.key("ana-laptop", "*", owner="ana@help.example")


def test_an_agent_cannot_read_another_teams_ticket(api: Api, agent: dict[str, str]) -> None:
    assert api.call("GET", "/api/v1/tickets/100", headers=agent).status_code == 200
    other = api.call("GET", "/api/v1/tickets/200", headers=agent)
    unknown = api.call("GET", "/api/v1/tickets/999", headers=agent)
    assert other.status_code == unknown.status_code == 404  # the same answer as none at all
    assert other.json() == {"detail": "no ticket '200'"}
    lead = api.key("lead-key", "tickets:read")  # an integration's key sees every team
    assert api.call("GET", "/api/v1/tickets/200", headers=lead).status_code == 200


def test_an_agents_queue_holds_only_their_teams(api: Api, agent: dict[str, str]) -> None:
    every = {"all": "true", "at": "2026-12-07T15:00:00+01:00"}
    queue = api.call("GET", "/api/v1/queue", params=every, headers=agent)
    assert queue.status_code == 200
    assert [(item["ticket"], item["team"]) for item in queue.json()] == [("100", "billing")]
    other = api.call("GET", "/api/v1/queue", params={"team": "returns"}, headers=agent)
    assert other.status_code == 403
    assert other.json()["detail"] == "the key 'ana-laptop' (agent) sees only the teams billing"
    everyone = api.call("GET", "/api/v1/queue", params=every, headers=api.key("q", "*"))
    assert {item["ticket"] for item in everyone.json()} == {"100", "200"}


def test_an_agent_reads_only_their_teams_messages(api: Api, agent: dict[str, str]) -> None:
    own = api.call("GET", "/api/v1/messages/<m100@help.example>", headers=agent)
    assert own.status_code == 200 and own.json()["ticket"] == "100"
    other = api.call("GET", "/api/v1/messages/<m200@help.example>", headers=agent)
    assert other.status_code == 404 and other.json() == {
        "detail": "no message '<m200@help.example>'"
    }
    unnamed = api.call("GET", "/api/v1/messages", headers=agent)
    assert unnamed.status_code == 403 and "?ticket=" in unnamed.json()["detail"]
    listed = api.call("GET", "/api/v1/messages", params={"ticket": "100"}, headers=agent)
    assert [m["ticket"] for m in listed.json()["messages"]] == ["100"]
    hidden = api.call("GET", "/api/v1/messages", params={"ticket": "200"}, headers=agent)
    assert hidden.json() == {"messages": [], "next": None}


def test_a_users_key_is_bounded_by_their_role(api: Api, agent: dict[str, str]) -> None:
    write = api.call("PUT", "/api/v1/tickets/100", json={"status": "solved"}, headers=agent)
    assert write.status_code == 403
    assert write.json()["detail"] == "the key 'ana-laptop' (agent) lacks the scope tickets:write"
    api.store.accounts.remove_user("ana@help.example")  # their keys go with them
    assert api.call("GET", "/api/v1/tickets/100", headers=agent).status_code == 401


# Keys: shown once, kept as SHA-256 only, revoked at once, older ones imported.


def _every_value(store: Store) -> str:
    """Every value of every table, as one text: what a copy of the database would give."""
    found = []
    with store.database.connect() as connection:
        for table in metadata.sorted_tables:
            found += [repr(tuple(row)) for row in connection.execute(select(table))]
    return "\n".join(found)


def test_a_key_is_kept_as_its_sha256_only(api: Api) -> None:
    made = make_key(api.store.accounts, "zendesk", ("tickets:read",))
    assert made is not None and made.secret.startswith("ink_") and len(made.secret) == 47
    held = _every_value(api.store)
    assert made.secret not in held
    assert hashlib.sha256(made.secret.encode()).hexdigest() in held
    auth = {"Authorization": f"Bearer {made.secret}"}
    assert api.call("GET", "/api/v1/tickets/x", headers=auth).status_code == 404
    assert api.store.accounts.key_named("zendesk").last_used_at is not None  # type: ignore[union-attr]
    assert make_key(api.store.accounts, "zendesk", ("*",)) is None  # one key per name


def test_a_revoked_key_is_refused_at_once(api: Api) -> None:
    auth = api.key("script", "queue:read")
    assert api.call("GET", "/api/v1/queue", headers=auth).status_code == 200
    assert api.store.accounts.revoke_key("script")
    gone = api.call("GET", "/api/v1/queue", headers=auth)
    assert gone.status_code == 401
    assert gone.json()["detail"] == "this API key is not valid (mistyped, or revoked)"


def test_keys_of_an_older_users_json_keep_working_with_every_scope(
    api: Api, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = ApiKeys.for_data_dir(data_dir)
    old = legacy.add("helpdesk")
    api.key("taken", "queue:read")
    clashing = legacy.add("taken")  # a newer key took its name: it comes in beside it
    with caplog.at_level(logging.WARNING, logger="inkling.api.keys"):
        for key in (old, clashing):
            auth = {"Authorization": f"Bearer {key}"}
            assert api.call("PUT", "/api/v1/tickets/1", json={}, headers=auth).status_code == 422
    assert [r.getMessage()[:58] for r in caplog.records] == [
        "imported 2 API key(s) from " + str(legacy.path)[:31]
    ]
    assert "with scope * (full access, as before)" in caplog.records[0].getMessage()
    assert not legacy.path.exists() and (data_dir / "users.json.imported").exists()
    with api.store.database.connect() as connection:
        rows = connection.execute(select(api_keys.c.name, api_keys.c.scopes)).all()
    assert sorted(map(tuple, rows)) == [
        ("helpdesk", "*"),
        ("taken", "queue:read"),
        ("taken-legacy", "*"),
    ]
    assert api.store.accounts.revoke_key("helpdesk")  # revoked as any other key
    auth = {"Authorization": f"Bearer {old}"}
    assert api.call("GET", "/api/v1/queue", headers=auth).status_code == 401


# The dashboard's session also opens the API, as far as the user's role allows.


def _session(api: Api, data_dir: Path, email: str) -> tuple[dict[str, str], str]:
    """The cookies of a browser signed in as ``email``, and its CSRF token."""
    sessions = Sessions.for_key_file(DataDir(data_dir).session_key)
    user = api.store.accounts.user(email)
    assert user is not None
    csrf = sessions.new_csrf_cookie()
    cookies = {SESSION_COOKIE: sessions.issue(email, user.password), CSRF_COOKIE: csrf}
    return cookies, sessions.csrf_token(csrf)


def test_a_session_opens_the_api_and_writes_need_its_csrf_token(api: Api, data_dir: Path) -> None:
    api.store.accounts.add_user("sam@help.example", "admin", [], "argon2-hash-of-a-test")
    cookies, token = _session(api, data_dir, "sam@help.example")
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    got = api.call("GET", "/api/v1/queue", headers={"Cookie": header})
    assert got.status_code == 200
    body = json.dumps({"status": "open", "priority": "low", "updated_at": 1_796_000_000})
    put = {"Cookie": header, "Content-Type": "application/json"}
    forged = api.call("PUT", "/api/v1/tickets/7", content=body, headers=put)
    assert forged.status_code == 403 and CSRF_HEADER in forged.json()["detail"]
    done = api.call("PUT", "/api/v1/tickets/7", content=body, headers={**put, CSRF_HEADER: token})
    assert done.status_code == 200, done.text
    api.store.accounts.set_password("sam@help.example", "argon2-hash-of-another")
    ended = api.call("GET", "/api/v1/queue", headers={"Cookie": header})
    assert ended.status_code == 401 and "sign in again" in ended.json()["detail"]


def test_an_agents_session_holds_the_agents_scopes(api: Api, data_dir: Path) -> None:
    api.store.accounts.add_user("ana@help.example", "agent", ["billing"], "argon2-hash")
    cookies, _ = _session(api, data_dir, "ana@help.example")
    header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    assert api.call("GET", "/api/v1/queue", headers=header).status_code == 200
    stream = api.call("GET", "/api/v1/stream", headers=header)
    assert stream.status_code == 403
    assert stream.json()["detail"] == "ana@help.example (agent) lacks the scope stream:read"
