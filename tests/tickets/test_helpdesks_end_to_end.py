"""A helpdesk's webhook through the whole app as ``inkling serve`` builds it (the settings'
``[integrations.zammad]``, the real store on each backend): the payload is stored, and the
tickets API shows it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from inkling import root
from inkling.api.keys import ApiKeys
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.root import Services
from inkling.store import Store
from inkling.tokens import TokenCodec
from tests.tickets.test_helpdesks_api import SECRET, ZAMMAD, _zammad_signed


def test_a_signed_webhook_becomes_a_ticket_the_api_shows(store: Store, data_dir: Path) -> None:
    """Through the whole app as ``inkling serve`` builds it: the Zammad payload is stored
    and ``GET /api/v1/tickets/{id}`` shows it, with the team, the Message-ID and the
    helpdesk's own fields."""
    keys = ApiKeys.for_data_dir(data_dir)
    key = keys.add("lead")
    settings = Settings(
        data_dir=data_dir,
        integrations={"zammad": {"secret": SECRET, "teams": {"Returns": "returns-eu"}}},
    )
    services = Services(
        DataDir(data_dir), store, TokenCodec.for_data_dir(data_dir), settings.base_url
    )
    app = root.api(settings, services)

    async def exchange() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as client:
            posted = await client.post(
                "/api/v1/integrations/zammad", content=ZAMMAD, headers=_zammad_signed(ZAMMAD)
            )
            shown = await client.get(
                "/api/v1/tickets/31057", headers={"Authorization": f"Bearer {key}"}
            )
            return posted, shown

    posted, shown = asyncio.run(exchange())
    assert posted.status_code == 200, posted.text
    assert shown.status_code == 200, shown.text
    ticket = shown.json()["ticket"]
    assert (ticket["team"], ticket["priority"], ticket["status"]) == ("returns-eu", "high", "open")
    assert ticket["requester"] == "dee@customer.example"
    assert ticket["message_ids"] == ["<20261204120001.4f2a@help.example>"]
    assert (ticket["source"], ticket["zammad_id"]) == ("zammad", 57)
    assert ticket["created_at"] == "2026-12-04T11:58:40Z"
