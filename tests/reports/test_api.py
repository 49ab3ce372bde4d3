"""``GET /api/v1/reports`` as a lead's integration calls it: the same JSON as ``inkling
report --format json``, behind the ``reports:read`` scope, with one clear line for a bad
time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from inkling import root
from inkling.api.keys import make_key
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.root import Services
from inkling.store import Store
from inkling.tokens import TokenCodec
from tests.reports.stories import HELP, SINCE, UNTIL, Desk


class Client:
    def __init__(self, store: Store, data_dir: Path) -> None:
        settings = Settings.model_validate(
            {"data_dir": data_dir, "reports": {"help_center": [HELP]}}
        )
        services = Services(
            DataDir(data_dir), store, TokenCodec.for_data_dir(data_dir), settings.base_url
        )
        self.store = store
        self.app: FastAPI = root.api(settings, services)

    def key(self, name: str, *scopes: str) -> dict[str, str]:
        made = make_key(self.store.accounts, name, scopes)
        assert made is not None
        return {"Authorization": f"Bearer {made.secret}"}

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as c:
                return await c.get(url, **kwargs)

        return asyncio.run(go())


@pytest.fixture
def client(store: Store, data_dir: Path) -> Client:
    return Client(store, data_dir)


def _story(desk: Desk) -> None:
    article = HELP + "refunds"
    desk.ticket("4123", "2026-11-02T09:00:00Z", "2026-11-02T13:00:00Z", team="billing")
    sent = desk.send("4123", "2026-11-02T10:00:00Z", [article], subject="Your refund")
    desk.opened(sent, "2026-11-02T10:30:00Z")
    desk.clicked(sent, "2026-11-02T10:31:00Z")
    desk.ticket(
        "4124", "2026-11-03T09:00:00Z", "2026-11-04T09:00:00Z", team="support", requester=None
    )


def test_the_report_over_http_is_the_report(client: Client) -> None:
    desk = Desk(client.store)
    _story(desk)
    lead = client.key("lead-dashboard", "reports:read")

    answer = client.get("/api/v1/reports", params={"since": SINCE, "until": UNTIL}, headers=lead)

    assert answer.status_code == 200, answer.text
    assert answer.json() == desk.report()
    assert answer.json()["tickets_solved"] == 2
    assert answer.json()["self_service_completion"] == 1.0  # the [reports] setting reached it
    billing = client.get(
        "/api/v1/reports",
        params={"since": "1793577600", "until": UNTIL, "team": "billing"},
        headers=lead,
    ).json()
    assert (billing["since"], billing["team"], billing["tickets_solved"]) == (
        "2026-11-02T00:00:00Z",
        "billing",
        1,
    )


def test_the_scope_and_bad_times(client: Client) -> None:
    other = client.key("queue-only", "queue:read")
    refused = client.get("/api/v1/reports", headers=other)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "the key 'queue-only' lacks the scope reports:read"
    assert client.get("/api/v1/reports").status_code == 401

    lead = client.key("lead", "reports:read")
    default = client.get("/api/v1/reports", headers=lead)
    assert default.status_code == 200  # the last 30 days
    for params, said in [
        ({"since": "last week"}, "since must be ISO 8601"),
        ({"since": UNTIL, "until": SINCE}, "since must be before until"),
        ({"until": "99999999999999"}, "until must be between 1970 and 2999"),
        ({"team": "a\x00b"}, "team must not contain"),
    ]:
        bad = client.get("/api/v1/reports", params=params, headers=lead)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["detail"].startswith(said), bad.text
