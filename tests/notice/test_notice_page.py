"""The customer-facing notice: it says what the message tracks, a GET never changes a
thing, and only its own form (with the cookie its GET set) opts the customer out."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from inkling.model import MessageIdHeader, MessageRecord
from inkling.notice import NoticeOptions, notice_router
from inkling.privacy.optout import OptOutKey
from inkling.store import Store
from inkling.store.optouts import OptOutBook
from inkling.tokens import TokenCodec, new_message_id

ANA = "ana@customer.example"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class _Browser:
    """One visitor with a cookie jar, talking to the notice in this process."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(
                transport=transport, base_url="https://t.acme.example", cookies=self.cookies
            ) as client:
                response = await client.request(method, url, **options)
                self.cookies.update(client.cookies)
                return response

        return asyncio.run(go())


@pytest.fixture
def book(store: Store, data_dir: Path) -> OptOutBook:
    return OptOutBook(store.optouts, OptOutKey.load_or_create(data_dir / "privacy.key"))


@pytest.fixture
def app(store: Store, data_dir: Path, book: OptOutBook) -> FastAPI:
    codec = TokenCodec.for_data_dir(data_dir)
    options = NoticeOptions(retention_days=90, full_ip=False, secure_cookie=True)
    key = OptOutKey.load_or_create(data_dir / "privacy.key")
    app = FastAPI()
    app.include_router(notice_router(codec, store, book, key, options))
    return app


def _sent(store: Store, data_dir: Path, tracking: str = "full", to: str = ANA) -> str:
    """Registers a copy to ``to``; its notice URL."""
    record = MessageRecord(
        new_message_id(),
        MessageIdHeader("<n1@acme.example>"),
        None,
        None,
        "Your refund",
        1_790_000_000,
        1,
        recipient=to,
        tracking=tracking,
        untracked=None if tracking == "full" else "policy",
    )
    store.messages.register(record, ["https://help.acme.example/refunds"])
    return "/p/" + TokenCodec.for_data_dir(data_dir).open_token(record.id, record.sent_at)


def test_the_page_says_what_is_tracked_and_a_get_changes_nothing(
    app: FastAPI, store: Store, data_dir: Path, book: OptOutBook
) -> None:
    url = _sent(store, data_dir)
    browser = _Browser(app)
    for _ in range(3):  # a scanner following the link, the customer opening it, again
        page = browser.request("GET", url)
        assert page.status_code == 200
    text = page.text
    assert "tracking pixel" in text and "links go through our server" in text
    assert "90 days" in text and "a\u2022\u2022\u2022@customer.example" in text
    assert ANA not in text  # whoever holds the link does not learn the address
    assert book.all() == []
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


def test_the_form_opts_the_customer_out(
    app: FastAPI, store: Store, data_dir: Path, book: OptOutBook
) -> None:
    url = _sent(store, data_dir)
    browser = _Browser(app)
    token = CSRF.search(browser.request("GET", url).text)
    assert token is not None
    done = browser.request("POST", url, data={"csrf": token.group(1)})
    assert done.status_code == 200 and "Tracking is off" in done.text
    [entry] = book.all()
    assert (entry.address, entry.scope, entry.source) == (ANA, "address", "page")
    assert book.opted_out(["Ana@Customer.Example"])
    again = browser.request("GET", url)
    assert "Tracking is off for" in again.text and 'name="csrf"' not in again.text
    assert [e.action for e in store.audit.entries()] == ["optout.add"]
    assert ANA not in str(store.audit.entries())


@pytest.mark.parametrize(
    "forged",
    [
        {},  # no token at all
        {"csrf": "0" * 64},  # a made-up one
    ],
)
def test_a_post_without_the_pages_own_token_changes_nothing(
    app: FastAPI, store: Store, data_dir: Path, book: OptOutBook, forged: dict[str, str]
) -> None:
    url = _sent(store, data_dir)
    browser = _Browser(app)
    browser.request("GET", url)
    refused = browser.request("POST", url, data=forged)
    assert refused.status_code == 403 and "Nothing was changed" in refused.text
    assert book.all() == []


def test_another_browsers_token_is_refused(
    app: FastAPI, store: Store, data_dir: Path, book: OptOutBook
) -> None:
    """A site that fetched the page itself cannot post its token from the customer's
    browser: the token is bound to the cookie of the browser that fetched it."""
    url = _sent(store, data_dir)
    attacker = _Browser(app)
    stolen = CSRF.search(attacker.request("GET", url).text)
    assert stolen is not None
    victim = _Browser(app)
    victim.request("GET", url)
    assert victim.request("POST", url, data={"csrf": stolen.group(1)}).status_code == 403
    assert book.all() == []


@pytest.mark.parametrize("tracking", ["clicks", "none"])
def test_the_page_says_less_when_less_is_tracked(
    app: FastAPI, store: Store, data_dir: Path, tracking: str
) -> None:
    text = _Browser(app).request("GET", _sent(store, data_dir, tracking)).text
    if tracking == "clicks":
        assert "no tracking pixel" in text
    else:
        assert "This email is not tracked" in text


@pytest.mark.parametrize("path", ["/p/nonsense", "/p/" + "a" * 40, "/p/%3Cscript%3E"])
def test_a_bad_link_gets_a_plain_page(app: FastAPI, path: str) -> None:
    page = _Browser(app).request("GET", path)
    assert page.status_code == 404 and "This link cannot be used" in page.text
    assert "<script" not in page.text
