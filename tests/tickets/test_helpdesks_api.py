"""POST /api/v1/integrations/{helpdesk}: a signed payload is mapped and saved; a bad or
missing signature is 401 and nothing is saved; an unconfigured helpdesk is refused with the
line that says how to configure it; a payload that names no ticket is 422."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
from fastapi import FastAPI

from inkling.api.integrations import integrations_router
from inkling.errors import TicketError
from inkling.tickets.helpdesks import HelpdeskOptions
from tests.conftest import FIXTURES

SECRET = "zammad-test-secret"
OPTIONS = {
    "zammad": HelpdeskOptions(secret=SECRET, teams={"Returns": "returns-eu"}),
    "freshdesk": HelpdeskOptions(token="fd-token"),
    "helpscout": HelpdeskOptions(secret=SECRET),
}


class _Saved:
    """The save function the router is given: collects what it is handed."""

    def __init__(self, refuse: str | None = None) -> None:
        self.tickets: list[dict[str, Any]] = []
        self.refuse = refuse

    def __call__(self, ticket: dict[str, Any]) -> None:
        if self.refuse:
            raise TicketError(self.refuse)
        self.tickets.append(ticket)


def _post(
    saved: _Saved, path: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    app = FastAPI()
    app.include_router(integrations_router(OPTIONS, saved))

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as client:
            return await client.post(path, content=body, headers=headers or {})

    return asyncio.run(send())


def _zammad_signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Hub-Signature": f"sha1={digest}", "Content-Type": "application/json"}


ZAMMAD = (FIXTURES / "helpdesks" / "zammad-trigger.json").read_bytes()


def test_a_signed_zammad_payload_is_mapped_and_saved() -> None:
    saved = _Saved()
    response = _post(saved, "/api/v1/integrations/zammad", ZAMMAD, _zammad_signed(ZAMMAD))
    assert response.status_code == 200, response.text
    assert len(saved.tickets) == 1
    ticket = saved.tickets[0]
    assert (ticket["id"], ticket["team"], ticket["source"]) == ("31057", "returns-eu", "zammad")
    assert ticket["message_ids"] == ["<20261204120001.4f2a@help.example>"]
    assert response.json() == {"ticket": ticket}


def test_a_bad_signature_is_401_and_nothing_is_saved() -> None:
    saved = _Saved()
    forged = ZAMMAD.replace(b"3 high", b"1 low")
    response = _post(saved, "/api/v1/integrations/zammad", forged, _zammad_signed(ZAMMAD))
    assert response.status_code == 401
    assert response.json()["detail"].startswith("zammad: X-Hub-Signature does not match")
    response = _post(saved, "/api/v1/integrations/zammad", ZAMMAD)
    assert response.status_code == 401
    assert response.json()["detail"] == "zammad: no X-Hub-Signature header"
    assert saved.tickets == []


def test_an_unconfigured_helpdesk_is_refused_with_how_to_configure_it() -> None:
    saved = _Saved()
    response = _post(saved, "/api/v1/integrations/zendesk", b"{}")
    assert response.status_code == 404
    assert "[integrations.zendesk] secret = " in response.json()["detail"]
    response = _post(saved, "/api/v1/integrations/kayako", b"{}")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no integration named 'kayako'; one of zendesk")
    assert saved.tickets == []


def test_freshdesk_with_its_shared_token() -> None:
    saved = _Saved()
    body = (FIXTURES / "helpdesks" / "freshdesk-automation.json").read_bytes()
    basic = "Basic " + base64.b64encode(b"inkling:fd-token").decode()
    response = _post(saved, "/api/v1/integrations/freshdesk", body, {"Authorization": basic})
    assert response.status_code == 200, response.text
    assert saved.tickets[0]["id"] == "872"
    assert isinstance(saved.tickets[0]["updated_at"], float)  # when it arrived
    response = _post(saved, "/api/v1/integrations/freshdesk", body, {"X-Inkling-Token": "no"})
    assert response.status_code == 401
    assert len(saved.tickets) == 1


def test_a_payload_with_no_ticket_is_422_in_one_line() -> None:
    saved = _Saved()
    body = json.dumps({"article": {"id": 1}}).encode()
    response = _post(saved, "/api/v1/integrations/zammad", body, _zammad_signed(body))
    assert response.status_code == 422
    assert response.json() == {
        "detail": "zammad payload: no ticket id (looked at ticket.number, ticket.id)"
    }
    body = b"[1, 2"
    response = _post(saved, "/api/v1/integrations/zammad", body, _zammad_signed(body))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("zammad payload is not JSON: ")
    body = b"[1, 2]"
    response = _post(saved, "/api/v1/integrations/zammad", body, _zammad_signed(body))
    assert response.json() == {"detail": "zammad payload must be a JSON object"}
    assert saved.tickets == []


def test_what_save_refuses_is_422_with_its_message() -> None:
    saved = _Saved(refuse="requester must be an email address, not 'Dee'")
    response = _post(saved, "/api/v1/integrations/zammad", ZAMMAD, _zammad_signed(ZAMMAD))
    assert response.status_code == 422
    assert response.json() == {"detail": "requester must be an email address, not 'Dee'"}


def test_helpscout_events_not_about_a_conversation_are_acknowledged_not_saved() -> None:
    saved = _Saved()
    body = b'{"id": 12, "email": "ana@customer.example"}'
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha1).digest()).decode()
    headers = {"X-HelpScout-Signature": signature, "X-HelpScout-Event": "customer.created"}
    response = _post(saved, "/api/v1/integrations/helpscout", body, headers)
    assert response.status_code == 200
    assert "is not about a conversation" in response.json()["ignored"]
    assert saved.tickets == []
