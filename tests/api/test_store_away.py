"""The API while its database is away: a real unreachable database (a port nothing
listens on). Every answer is a 503 the caller may retry, never a 409 or a 500, and nothing
is sent that could not be recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkling import root
from inkling.api.keys import ApiKeys
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.root import Services
from inkling.store import Store
from inkling.tokens import TokenCodec
from tests.api.test_send import Api
from tests.relay.conftest import BASE_URL, Sink
from tests.relay.messages import support_reply

UNREACHABLE = "postgresql+psycopg://inkling@127.0.0.1:9/none"  # port 9: nothing listens


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sink: Sink) -> Api:
    monkeypatch.chdir(tmp_path)  # no stray inkling.toml
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE_URL, relay_upstream=sink.url)
    services = Services(
        DataDir(settings.data_dir),
        Store(UNREACHABLE),
        TokenCodec.for_data_dir(settings.data_dir),
        settings.base_url,
    )
    key = ApiKeys(services.data_dir.users).add("helpdesk")
    return Api(root.api(settings, services), services, key)


def test_a_reading_is_a_503_to_retry(api: Api) -> None:
    answer = api.get("/api/v1/messages/<a1@acme.example>")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "try again later" in answer.json()["detail"]


@pytest.mark.parametrize("send", ["false", "true"])
def test_a_message_that_cannot_be_registered_is_a_503_and_not_sent(
    api: Api, sink: Sink, send: str
) -> None:
    answer = api.post(
        f"/api/v1/messages?send={send}",
        content=support_reply(),
        headers={"Content-Type": "message/rfc822"},
    )
    assert answer.status_code == 503, answer.text
    assert sink.handler.received == []
