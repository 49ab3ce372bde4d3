"""The customer-facing notice in a real browser, as a customer on a small phone meets it:
readable at 320 px, operable by keyboard alone, and asking nothing of any other host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from inkling.model import MessageIdHeader, MessageRecord
from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id
from tests.e2e.browser import CHROMIUM, LocalWeb, chromium_context
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Store]]:
    data_dir = tmp_path_factory.mktemp("notice") / "data"
    data_dir.mkdir()
    server = ServerProcess(data_dir)
    store = Store(f"sqlite:///{data_dir / 'inkling.db'}")
    try:
        yield server, store
    finally:
        store.close()
        server.stop()


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWeb]:
    local = LocalWeb(tmp_path_factory.mktemp("web"))
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def page(web: LocalWeb) -> Iterator[Page]:
    with chromium_context(web) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 320, "height": 640})
        yield page


def _notice_url(server: ServerProcess, store: Store, recipient: str) -> str:
    record = MessageRecord(
        new_message_id(),
        MessageIdHeader(f"<{recipient}@help.example>"),
        None,
        "4123",
        "Your refund",
        1_790_000_000,
        1,
        recipient=recipient,
    )
    store.messages.register(record, ["https://help.example/refunds"])
    token = TokenCodec.for_data_dir(server.data_dir).open_token(record.id, record.sent_at)
    return f"{server.url}/p/{token}"


def test_readable_at_320_px_and_nothing_fetched_from_elsewhere(
    served: tuple[ServerProcess, Store], page: Page
) -> None:
    server, store = served
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    url = _notice_url(server, store, "ana@customer.example")
    page.goto(url)
    assert page.locator("h1").inner_text() == "About tracking in this email"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scroll
    button = page.get_by_role("button", name="Turn off tracking for my email")
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert box["height"] >= 44  # a finger can hit it
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 16
    # the page asked for itself and nothing else (Chromium's own background fetches, such
    # as its clock check, are not the page's and do not show here)
    assert requested == [url]


def test_the_keyboard_alone_turns_tracking_off(
    served: tuple[ServerProcess, Store], page: Page
) -> None:
    server, store = served
    url = _notice_url(server, store, "bo@customer.example")
    page.goto(url)
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    assert page.evaluate("document.activeElement.textContent") == "Turn off tracking for my email"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Tracking is off")
    assert page.get_by_role("status").inner_text().startswith("Done.")
    assert [entry.address for entry in store.optouts.all()] == ["bo@customer.example"]
