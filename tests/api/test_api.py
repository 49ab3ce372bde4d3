"""The JSON API: readings behind API keys, on each backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from inkling import root
from inkling.api.keys import ApiKeys
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.errors import KeyStoreError
from inkling.model import (
    Agent,
    Event,
    EventKind,
    MessageIdHeader,
    MessageRecord,
    Verdict,
    new_event_id,
)
from inkling.root import Services
from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"


@pytest.fixture
def keys(data_dir: Path) -> ApiKeys:
    return ApiKeys.for_data_dir(data_dir)


class _Client:
    """Requests to the API app in this process (httpx over ASGI, one event loop each)."""

    def __init__(self, store: Store, keys: ApiKeys) -> None:
        data_dir = keys.path.parent
        settings = Settings(data_dir=data_dir)
        codec = TokenCodec.for_data_dir(data_dir)
        self._app = root.api(settings, Services(DataDir(data_dir), store, codec, settings.base_url))

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as c:
                return await c.get(url, headers=headers)

        return asyncio.run(fetch())


def _client(store: Store, keys: ApiKeys) -> _Client:
    return _Client(store, keys)


def _message(store: Store) -> MessageRecord:
    record = MessageRecord(
        new_message_id(), MessageIdHeader("<r1/x@acme.example>"), "billing", "7", "Hi", 1, 1
    )
    store.messages.register(record, ["https://help.acme.example/refunds"])
    opened = Event(new_event_id(), record.id, EventKind.OPEN, 10.0, "GET", user_agent=OUTLOOK)
    opened.verdict, opened.agent = Verdict.HUMAN, Agent.MAIL_CLIENT
    fetched = Event(new_event_id(), record.id, EventKind.OPEN, 5.0, "GET", user_agent="Mozilla/5.0")
    fetched.verdict, fetched.agent = Verdict.MACHINE, Agent.APPLE_MPP
    store.events.insert([fetched, opened])
    return record


def test_reading_by_message_id_with_a_key(store: Store, keys: ApiKeys) -> None:
    record = _message(store)
    key = keys.add("zendesk")
    with _client(store, keys) as client:
        answer = client.get(
            "/api/v1/messages/<r1/x@acme.example>", headers={"Authorization": f"Bearer {key}"}
        )
    assert answer.status_code == 200
    reading = answer.json()
    assert reading["id"] == record.id
    assert reading["opens"] == {"total": 2, "human": 1, "machine": 1, "unknown": 0}
    assert reading["sentence"] == (
        "Opened by a person once (Outlook); 1 fetch by Apple's privacy proxy says nothing "
        "about reading."
    )
    assert [e["agent"] for e in reading["events"]] == ["apple_mpp", "mail_client"]


def test_no_key_a_wrong_key_or_a_removed_key_is_refused(store: Store, keys: ApiKeys) -> None:
    _message(store)
    key = keys.add("script")
    with _client(store, keys) as client:
        url = f"/api/v1/messages/{'<r1/x@acme.example>'}"
        assert (client.get(url)).status_code == 401
        wrong = {"Authorization": "Bearer ink_wrong"}
        assert (client.get(url, headers=wrong)).status_code == 401
        assert store.accounts.revoke_key("script")  # imported from users.json on first use
        gone = {"Authorization": f"Bearer {key}"}
        assert (client.get(url, headers=gone)).status_code == 401


def test_unknown_message_is_a_404(store: Store, keys: ApiKeys) -> None:
    key = keys.add("zendesk")
    with _client(store, keys) as client:
        answer = client.get(
            "/api/v1/messages/<nobody@nowhere>", headers={"Authorization": f"Bearer {key}"}
        )
    assert answer.status_code == 404


def test_keys_are_kept_as_digests_in_a_private_file(keys: ApiKeys) -> None:
    key = keys.add("zendesk")
    assert key not in keys.path.read_text()
    assert keys.path.stat().st_mode & 0o777 == 0o600
    assert keys.user_for(key) == "zendesk"
    with pytest.raises(KeyStoreError, match="exists"):
        keys.add("zendesk")


def test_openapi_is_published(store: Store, keys: ApiKeys) -> None:
    with _client(store, keys) as client:
        spec = (client.get("/api/openapi.json")).json()
    assert "/api/v1/messages/{message}" in spec["paths"]


def test_a_message_sent_as_several_copies_reads_as_one_thread(store: Store, keys: ApiKeys) -> None:
    thread = MessageIdHeader("<cc@acme.example>")
    copies = [
        MessageRecord(new_message_id(), thread, None, None, "Hi", 1, 0, recipient=r)
        for r in ("ann@customer.example", "bob@customer.example")
    ]
    store.messages.register_all([(c, []) for c in copies])
    key = keys.add("zendesk")
    auth = {"Authorization": f"Bearer {key}"}
    with _client(store, keys) as client:
        both = client.get("/api/v1/messages/<cc@acme.example>", headers=auth)
        one = client.get(f"/api/v1/messages/{copies[1].id}", headers=auth)
    assert both.status_code == 200
    listed = {r["id"]: r["recipient"] for r in both.json()["recipients"]}
    assert listed == {c.id: c.recipient for c in copies}
    assert one.status_code == 200 and one.json()["recipient"] == "bob@customer.example"
