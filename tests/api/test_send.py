"""Sending through the API: httpx against the real ASGI app, an aiosmtpd sink as the mail
server, and what the store and the tokens say afterwards."""

from __future__ import annotations

import asyncio
import base64
import email
import itertools
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from inkling import root
from inkling.api.keys import ApiKeys
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.model import InklingId
from inkling.root import Services
from inkling.store import Store
from inkling.tokens import HONEYPOT_LINK, TokenCodec
from tests.relay.conftest import BASE_URL, Sink
from tests.relay.messages import LINKS, support_reply

CLICK = re.compile(re.escape(BASE_URL).encode() + rb"/t/c/([A-Za-z0-9_-]+)")
PIXEL = re.compile(re.escape(BASE_URL).encode() + rb"/t/o/([a-f0-9]+)\.gif")
ANN, BOB = "ann@customer.example", "bob@customer.example"
_names = itertools.count()


@dataclass
class Api:
    """The API app in this process, with a valid key; one event loop per request."""

    app: FastAPI
    services: Services
    key: str

    def post(
        self, url: str, *, auth: bool = True, headers: dict[str, str] | None = None, **body: Any
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.key}"} if auth else {}
        return self._request("POST", url, headers={**sent, **(headers or {})}, **body)

    def get(self, url: str) -> httpx.Response:
        return self._request("GET", url, headers={"Authorization": f"Bearer {self.key}"})

    def _request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as c:
                return await c.request(method, url, **options)

        return asyncio.run(call())


ApiFactory = Callable[..., Api]


@pytest.fixture
def api_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store, sink: Sink
) -> ApiFactory:
    """Builds the API over ``store`` with settings overrides (upstream: the sink)."""
    monkeypatch.chdir(tmp_path)  # no stray inkling.toml

    def build(**overrides: object) -> Api:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "base_url": BASE_URL,
            "relay_upstream": sink.url,
        }
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        codec = TokenCodec.for_data_dir(settings.data_dir)
        services = Services(DataDir(settings.data_dir), store, codec, settings.base_url)
        keys = ApiKeys(services.data_dir.users)
        return Api(root.api(settings, services), services, keys.add(f"helpdesk{next(_names)}"))

    return build


@pytest.fixture
def api(api_factory: ApiFactory) -> Api:
    return api_factory()


def _fields(**changes: object) -> dict[str, object]:
    """A JSON request: a reply with two links in each body, in a workflow and a ticket."""
    fields: dict[str, object] = {
        "to": ANN,
        "from": "Acme Support <support@acme.example>",
        "subject": "Your refund",
        "html": f'<p>See <a href="{LINKS[0]}">the article</a> and <a href="{LINKS[1]}">it</a></p>',
        "text": f"See {LINKS[0]} and {LINKS[1]}",
        "workflow": "billing",
        "ticket": "4821",
    }
    fields.update(changes)
    return fields


def _tokens(codec: TokenCodec, mime: bytes) -> tuple[set[InklingId], list[str]]:
    """The Inkling ids a copy's tokens name, and its tracked link targets, in order (html
    part first), read from the decoded bodies (quoted-printable wraps long lines)."""
    parts = [p for p in _parse(mime).walk() if not p.is_multipart()]
    order = sorted(parts, key=lambda p: p.get_content_type() != "text/html")
    bodies = b"\n".join(_decoded(p) for p in order)
    clicks = [codec.decode_click(m.group(1).decode()) for m in CLICK.finditer(bodies)]
    opens = [codec.decode_open(m.group(1).decode()) for m in PIXEL.finditer(bodies)]
    ids = {c.message for c in clicks} | {o.message for o in opens}
    return ids, [c.url for c in clicks if c.link != HONEYPOT_LINK]


def _decoded(part: Message) -> bytes:
    """A leaf part's body with its transfer encoding undone (bytes for any leaf)."""
    body = part.get_payload(decode=True)
    assert isinstance(body, bytes)
    return body


def _parse(mime: bytes) -> Message:
    return email.message_from_bytes(mime, policy=compat32)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- send=false: instrumented, registered, handed back -------------------------------------


def test_json_comes_back_as_an_instrumented_registered_message(api: Api, sink: Sink) -> None:
    answer = api.post("/api/v1/messages", json=_fields())
    assert answer.status_code == 201
    assert answer.headers["content-type"] == "message/rfc822"
    ident = answer.headers["x-inkling-id"]
    assert answer.headers["location"] == f"/api/v1/messages/{ident}"
    ids, targets = _tokens(api.services.codec, answer.content)
    assert ids == {ident}
    assert targets == LINKS + LINKS  # html part, then text part
    parsed = _parse(answer.content)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["To"] == ANN and parsed["X-Inkling-Workflow"] is None
    record = api.services.store.messages.find(ident)
    assert (record.workflow, record.ticket, record.recipient) == ("billing", "4821", ANN)
    assert record.message_id == parsed["Message-ID"] and record.relayed_at is None
    assert api.get(f"/api/v1/messages/{ident}").status_code == 200
    assert sink.handler.received == []  # nothing was sent


def test_several_recipients_come_back_as_a_copy_each(api: Api) -> None:
    answer = api.post("/api/v1/messages", json=_fields(to=[ANN], cc=f"Bob <{BOB}>", html=None))
    assert answer.status_code == 201 and answer.headers["content-type"] == "application/json"
    copies = answer.json()["copies"]
    assert [c["recipient"] for c in copies] == [ANN, BOB]
    assert len({c["id"] for c in copies}) == 2 and len({c["message_id"] for c in copies}) == 1
    for copy in copies:
        mime = base64.b64decode(copy["mime"])
        assert _tokens(api.services.codec, mime) == ({copy["id"]}, LINKS)
        assert _parse(mime).get_content_type() == "text/plain"
        assert api.services.store.messages.find(copy["id"]).recipient == copy["recipient"]


def test_raw_mime_comes_back_instrumented_and_registered(api: Api) -> None:
    raw = support_reply(to=ANN, extra_headers=f"Bcc: {BOB}\r\nX-Inkling-Ticket: 77\r\n")
    answer = api.post(
        "/api/v1/messages",
        content=raw,
        headers={"Content-Type": "message/rfc822", "Accept": "application/json"},
    )
    assert answer.status_code == 201
    copies = answer.json()["copies"]
    assert [c["recipient"] for c in copies] == [ANN, BOB]  # Bcc is a recipient ...
    for copy in copies:
        mime = base64.b64decode(copy["mime"])
        assert _tokens(api.services.codec, mime) == ({copy["id"]}, LINKS + LINKS)
        parsed = _parse(mime)
        assert parsed["Bcc"] is None and parsed["X-Inkling-Ticket"] is None  # ... not a field
        assert parsed["Message-ID"] == copy["message_id"] == "<reply-1@acme.example>"
        assert api.services.store.messages.find(copy["id"]).ticket == "77"


def test_the_same_message_registered_twice_is_a_conflict(api: Api) -> None:
    raw = support_reply(to=ANN)
    headers = {"Content-Type": "message/rfc822"}
    assert api.post("/api/v1/messages", content=raw, headers=headers).status_code == 201
    again = api.post("/api/v1/messages", content=raw, headers=headers)
    assert again.status_code == 409
    assert "<reply-1@acme.example> to ann@customer.example" in again.json()["detail"]


# -- send=true: through the mail server ----------------------------------------------------


def test_two_recipients_get_a_copy_each_at_the_mail_server(api: Api, sink: Sink) -> None:
    answer = api.post("/api/v1/messages?send=true", json=_fields(to=[ANN, f"Bob <{BOB}>"]))
    assert answer.status_code == 201
    copies = answer.json()["copies"]
    assert [(c["recipient"], c["status"], c["reply"]) for c in copies] == [
        (ANN, "sent", "250 2.0.0 queued"),
        (BOB, "sent", "250 2.0.0 queued"),
    ]
    received = {r.rcpt_tos[0]: r for r in sink.wait_for(2)}
    assert sorted(received) == [ANN, BOB] and all(len(r.rcpt_tos) == 1 for r in received.values())
    assert all(r.mail_from == "support@acme.example" for r in received.values())
    for copy in copies:
        mime = received[copy["recipient"]].content
        assert _tokens(api.services.codec, mime) == ({copy["id"]}, LINKS + LINKS)
        assert _parse(mime)["Message-ID"] == copy["message_id"]
        assert api.services.store.messages.find(copy["id"]).relayed_at is not None
        reading = api.get(f"/api/v1/messages/{copy['id']}")
        assert reading.status_code == 200 and reading.json()["recipient"] == copy["recipient"]


@pytest.mark.parametrize("when", ["rcpt", "data"])
def test_a_refused_recipient_is_reported_and_the_other_sent(
    api: Api, sink: Sink, when: str
) -> None:
    refusals = sink.handler.refuse_rcpt if when == "rcpt" else sink.handler.refuse_data_for
    refusals[BOB] = "550 5.1.1 no such user"
    answer = api.post("/api/v1/messages?send=true", json=_fields(to=[ANN, BOB]))
    assert answer.status_code == 201
    ann, bob = answer.json()["copies"]
    assert (ann["recipient"], ann["status"]) == (ANN, "sent")
    assert bob == {
        "id": None,
        "recipient": BOB,
        "message_id": ann["message_id"],
        "untracked": None,
        "status": "refused",
        "reply": "550 5.1.1 no such user",
    }
    assert [r.rcpt_tos for r in sink.wait_for(1)] == [[ANN]]
    kept = api.services.store.messages.copies_of(ann["message_id"])
    assert [r.id for r in kept] == [ann["id"]]


def test_every_recipient_refused_is_a_502_with_the_reply(api: Api, sink: Sink) -> None:
    sink.handler.refuse_rcpt[ANN] = "550 5.1.1 no such user"
    answer = api.post("/api/v1/messages?send=true", json=_fields())
    assert answer.status_code == 502
    assert answer.json()["detail"] == "the mail server refused the message: 550 5.1.1 no such user"
    assert api.services.store.messages.copies_of(answer.json()["copies"][0]["message_id"]) == []


def test_an_unreachable_mail_server_is_a_503_and_nothing_is_kept(api_factory: ApiFactory) -> None:
    api = api_factory(relay_upstream=f"smtp://127.0.0.1:{_closed_port()}")
    answer = api.post(
        "/api/v1/messages?send=true",
        content=support_reply(),
        headers={"Content-Type": "message/rfc822"},
    )
    assert answer.status_code == 503
    assert "cannot be reached; nothing was sent" in answer.json()["detail"]
    assert {c["status"] for c in answer.json()["copies"]} == {"refused"}
    assert api.services.store.messages.copies_of("<reply-1@acme.example>") == []


def test_without_a_mail_server_sending_is_a_503(api_factory: ApiFactory) -> None:
    api = api_factory(relay_upstream=None)
    answer = api.post("/api/v1/messages?send=true", json=_fields())
    assert answer.status_code == 503
    assert "INKLING_RELAY_UPSTREAM" in answer.json()["detail"]
    assert api.post("/api/v1/messages", json=_fields()).status_code == 201  # still prepares


def test_sending_the_same_message_again_does_not_send_it_twice(api: Api, sink: Sink) -> None:
    raw, headers = support_reply(to=ANN), {"Content-Type": "message/rfc822"}
    first = api.post("/api/v1/messages?send=true", content=raw, headers=headers)
    again = api.post("/api/v1/messages?send=true", content=raw, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["copies"][0]["reply"] == "250 2.0.0 relayed before; not sent again"
    assert again.json()["copies"][0]["id"] == first.json()["copies"][0]["id"]
    assert len(sink.wait_for(1)) == 1


# -- bad input -----------------------------------------------------------------------------

MIME, JSON = "message/rfc822", "application/json"


@pytest.mark.parametrize(
    ("content_type", "body", "status", "where", "says"),
    [
        (JSON, b'{"to": ', 422, ["body"], "Invalid JSON"),
        (JSON, b"[1, 2]", 422, ["body"], "should be an object"),
        (JSON, b'{"from": "support@acme.example", "text": "hi"}', 422, ["body", "to"], "required"),
        (JSON, b'{"to": "ann@x.example", "from": "s@acme.example"}', 422, ["body"], "html, text"),
        (JSON, b'{"to": ["ann"], "from": "s@a.example", "text": "hi"}', 422, ["body", "to", 0], ""),
        (
            JSON,
            b'{"to": "a@x.example", "from": "s@a.example", "text": "", "subject": "a\\r\\nBcc: e"}',
            422,
            ["body", "subject"],
            "one line",
        ),
        (
            JSON,
            b'{"to": "a@x.example", "from": "s@a.example", "text": "", "headers": {"To": "e"}}',
            422,
            ["body", "headers"],
            "'To' is written by Inkling",
        ),
        (MIME, b"just some text", 422, ["body"], "not a MIME message"),
        (MIME, b"Subject: hi\r\nFrom: s@a.example\r\n\r\nhi\r\n", 422, ["body", "To"], "recipient"),
        (MIME, b"To: ann\r\nFrom: s@a.example\r\n\r\nhi\r\n", 422, ["body", "To"], "'ann'"),
        ("text/plain", b"hello", 415, None, "Content-Type must be"),
        (None, b"hello", 415, None, "not missing"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    api: Api,
    content_type: str | None,
    body: bytes,
    status: int,
    where: list[object] | None,
    says: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = api.post("/api/v1/messages?send=true", content=body, headers=headers)
    assert answer.status_code == status
    detail = answer.json()["detail"]
    if where is None:
        assert says in detail
    else:
        assert detail[0]["loc"] == where and says in detail[0]["msg"]


def test_a_message_over_the_limit_is_a_413(api_factory: ApiFactory) -> None:
    api = api_factory(max_message_bytes=2048)
    answer = api.post("/api/v1/messages", json=_fields(text="x" * 4000))
    assert answer.status_code == 413
    assert "over the limit of 2048 bytes (INKLING_MAX_MESSAGE_BYTES)" in answer.json()["detail"]
    unsized = api.post(  # the limit holds for a body sent without a Content-Length too
        "/api/v1/messages", content=_chunks(b"x" * 1500, 2), headers={"Content-Type": MIME}
    )
    assert unsized.status_code == 413


async def _chunks(chunk: bytes, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield chunk


@pytest.mark.parametrize("url", ["/api/v1/messages", "/api/v1/messages?send=true"])
def test_sending_needs_a_key(api: Api, sink: Sink, url: str) -> None:
    answer = api.post(url, json=_fields(), auth=False)
    assert answer.status_code == 401
    wrong = api.post(url, json=_fields(), auth=False, headers={"Authorization": "Bearer ink_no"})
    assert wrong.status_code == 401
    assert sink.handler.received == []


def test_openapi_describes_both_kinds_of_request(api: Api) -> None:
    spec = api.get("/api/openapi.json").json()
    post = spec["paths"]["/api/v1/messages"]["post"]
    assert set(post["requestBody"]["content"]) == {JSON, MIME}
    assert {"201", "401", "413", "422", "502", "503"} <= set(post["responses"])
    assert "send=true" in post["description"]


def test_an_address_opted_out_through_the_api_is_sent_untracked(api: Api, sink: Sink) -> None:
    added = api.post("/api/v1/optouts", json={"target": BOB.upper()})
    assert added.status_code == 200 and added.json() == {"target": BOB, "changed": True}
    again = api.post("/api/v1/optouts", json={"target": BOB})
    assert again.json()["changed"] is False
    answer = api.post("/api/v1/messages?send=true", json=_fields(to=[ANN, BOB]))
    assert answer.status_code == 201
    untracked = {c["recipient"]: c["untracked"] for c in answer.json()["copies"]}
    assert untracked == {ANN: None, BOB: "opt_out"}
    received = {r.rcpt_tos[0]: r.content for r in sink.wait_for(2)}
    assert not CLICK.search(received[BOB]) and not PIXEL.search(received[BOB])
    assert _tokens(api.services.codec, received[ANN])[1] == LINKS + LINKS
    [entry] = api.get("/api/v1/optouts").json()
    assert (entry["target"], entry["source"]) == (BOB, "api")
    audit = api.services.store.audit.entries()
    assert [e.action for e in audit][-2:] == ["optout.add", "optout.add"]
    assert BOB not in str(audit)


def test_a_bad_opt_out_target_is_a_422_naming_it(api: Api) -> None:
    refused = api.post("/api/v1/optouts", json={"target": "not an address"})
    assert refused.status_code == 422 and "neither an address" in refused.json()["detail"]
