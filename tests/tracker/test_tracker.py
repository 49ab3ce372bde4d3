"""The tracker app on each backend: pixel, redirect, HEAD, bad tokens, recorded evidence.

Each scenario runs the real tracker over a real journal; what it recorded is then loaded
into the store by the real loader, as ``inkling serve`` does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from inkling.classify import Classifier
from inkling.classify.batch import BatchJudge
from inkling.events.journal import JournalWriter
from inkling.events.recorder import Recorder
from inkling.model import Agent, EventKind, Verdict
from inkling.store import Store
from inkling.tokens import HONEYPOT_LINK, TokenCodec, new_message_id
from inkling.tracker import TRANSPARENT_GIF, ClientAddress, Tracker
from tests.events.helpers import load_journal

SENT = 1_790_000_000
TARGET = "https://help.acme.example/guide?a=1&b=%C3%BC"
Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


def run_tracker(
    store: Store,
    codec: TokenCodec,
    directory: Path,
    scenario: Scenario,
    client: ClientAddress | None = None,
    *,
    judge: BatchJudge | None = None,
    locate: Callable[[str], str] = lambda address: "",
) -> None:
    """Run ``scenario`` against a tracker over a journal in ``directory``, then load the
    journal into ``store``."""

    async def main() -> None:
        journal = JournalWriter(directory / "journal")
        journal.open()
        recorder = Recorder(journal)
        recorder.start()
        app = Tracker(codec, recorder.record, client or ClientAddress(), locate)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.77", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await scenario(http)
        await recorder.close()

    asyncio.run(main())
    load_journal(directory / "journal", store, codec, judge)


def test_pixel_answers_a_gif_that_is_never_cached(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        response = await http.get(f"/t/o/{token}.gif", headers={"User-Agent": "Mozilla/5.0"})
        assert response.status_code == 200
        assert response.content == TRANSPARENT_GIF and len(response.content) == 43
        assert response.headers["content-type"] == "image/gif"
        cache = response.headers["cache-control"]
        assert all(word in cache for word in ("no-cache", "no-store", "private"))

    run_tracker(store, codec, tmp_path, scenario)
    [event] = store.events.for_message(message)
    assert (event.kind, event.method, event.sent_at) == (EventKind.OPEN, "GET", SENT)
    assert event.user_agent == "Mozilla/5.0"


def test_click_redirects_to_the_target_and_records(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.click_token(message, 4, SENT, TARGET)
    headers = {
        "User-Agent": "Mozilla/5.0 (Windows NT 10.0) Outlook",
        "Referer": "https://outlook.office.com/",
        "Accept-Language": "de-DE,de;q=0.9",
        "Sec-Purpose": "prefetch",
        "Cookie": "secret=1",
    }

    async def scenario(http: httpx.AsyncClient) -> None:
        response = await http.get(f"/t/c/{token}", headers=headers)
        assert response.status_code == 302
        assert response.headers["location"] == TARGET

    run_tracker(store, codec, tmp_path, scenario)
    [event] = store.events.for_message(message)
    assert (event.kind, event.link, event.ip) == (EventKind.CLICK, 4, "203.0.113.0")
    assert event.evidence["referer"] == "https://outlook.office.com/"
    assert event.evidence["accept-language"] == "de-DE,de;q=0.9"
    assert event.evidence["sec-purpose"] == "prefetch"
    assert "cookie" not in event.evidence


def test_head_is_answered_and_recorded_as_head(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    click = codec.click_token(message, 0, SENT, TARGET)
    pixel = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        response = await http.head(f"/t/c/{click}")
        assert response.status_code == 302 and response.headers["location"] == TARGET
        response = await http.head(f"/t/o/{pixel}.gif")
        assert response.status_code == 200 and response.content == b""

    run_tracker(store, codec, tmp_path, scenario)
    assert [(e.kind, e.method) for e in store.events.for_message(message)] == [
        (EventKind.CLICK, "HEAD"),
        (EventKind.OPEN, "HEAD"),
    ]


def test_bad_tokens_record_nothing_and_never_redirect(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    good = codec.click_token(new_message_id(), 0, SENT, TARGET)
    altered = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")

    async def scenario(http: httpx.AsyncClient) -> None:
        for path in (f"/t/c/{altered}", "/t/c/", "/t/c/%00", "/t/c/aGVsbG8"):
            response = await http.get(path)
            assert response.status_code == 404
            assert "location" not in response.headers
        response = await http.get("/t/o/notatoken.gif")
        assert response.status_code == 200 and response.content == TRANSPARENT_GIF

    run_tracker(store, codec, tmp_path, scenario)
    assert store.events.count() == 0


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)
    headers = {"X-Forwarded-For": "198.51.100.23, 203.0.113.5"}

    async def scenario(http: httpx.AsyncClient) -> None:
        await http.get(f"/t/o/{token}.gif", headers=headers)

    run_tracker(store, codec, tmp_path, scenario, ClientAddress(["203.0.113.0/24"]))
    run_tracker(store, codec, tmp_path, scenario, ClientAddress())
    trusted, untrusted = store.events.for_message(message)
    assert trusted.ip == "198.51.100.0"
    assert trusted.evidence["x-forwarded-for"] == "198.51.100.0, 203.0.113.0"
    assert untrusted.ip == "203.0.113.0"
    assert "x-forwarded-for" not in untrusted.evidence


def test_every_forwarded_for_line_is_read_not_only_the_clients_first(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)
    # the client forges a line; the trusted proxy adds its own line rather than appending
    lines = [("X-Forwarded-For", "192.0.2.66"), ("X-Forwarded-For", "198.51.100.23")]

    async def scenario(http: httpx.AsyncClient) -> None:
        await http.get(f"/t/o/{token}.gif", headers=lines)

    run_tracker(store, codec, tmp_path, scenario, ClientAddress(["203.0.113.0/24"]))
    (hit,) = store.events.for_message(message)
    assert hit.ip == "198.51.100.0"


def test_full_ip_is_kept_only_when_configured(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        await http.get(f"/t/o/{token}.gif")

    run_tracker(store, codec, tmp_path, scenario, ClientAddress(keep_full=True))
    assert store.events.for_message(message)[0].ip == "203.0.113.77"


def test_concurrent_hits_are_all_recorded_in_batches(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        responses = await asyncio.gather(*(http.get(f"/t/o/{token}.gif") for _ in range(300)))
        assert all(r.status_code == 200 for r in responses)

    run_tracker(store, codec, tmp_path, scenario)
    assert len(store.events.for_message(message)) == 300


@pytest.mark.parametrize("path", ["/", "/t/x/abc", "/t/o/abc.png"])
def test_other_paths_are_not_found(
    store: Store, codec: TokenCodec, tmp_path: Path, path: str
) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        assert (await http.get(path)).status_code == 404

    run_tracker(store, codec, tmp_path, scenario)


def test_honeypot_is_a_blank_page_recorded_as_a_click_on_the_hidden_link(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        response = await http.get(f"/t/h/{token}")
        assert response.status_code == 200 and response.content == b""
        assert "location" not in response.headers
        assert (await http.get("/t/h/" + "0" * len(token))).status_code == 404

    run_tracker(store, codec, tmp_path, scenario)
    [event] = store.events.for_message(message)
    assert (event.kind, event.link) == (EventKind.CLICK, HONEYPOT_LINK)


def test_recorded_hits_carry_the_network_of_the_whole_address(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    """Only the truncated address is written down; the published network the whole one is
    in is looked up before that, and the judge decides with it."""
    message = new_message_id()
    token = codec.open_token(message, SENT)
    asked: list[str] = []

    def locate(address: str) -> str:
        asked.append(address)
        return "apple_relay"

    async def scenario(http: httpx.AsyncClient) -> None:
        await http.get(f"/t/o/{token}.gif", headers={"User-Agent": "Mozilla/5.0"})

    run_tracker(store, codec, tmp_path, scenario, judge=BatchJudge(Classifier()), locate=locate)
    assert asked == ["203.0.113.77"]
    [event] = store.events.for_message(message)
    assert (event.verdict, event.agent, event.ip, event.network) == (
        Verdict.MACHINE,
        Agent.APPLE_MPP,
        "203.0.113.0",
        "apple_relay",
    )


def test_a_target_that_cannot_be_a_location_gets_the_not_found_page(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    """A token made before targets were checked may hold a URL no Location header can
    carry (non-ASCII, control characters, no host): never a redirect onto this host, and
    never a 500."""
    message = new_message_id()
    tokens = [
        codec.click_token(message, i, SENT, url)
        for i, url in enumerate(
            ["http:/example.com/a", "https:example.com", "http://exämple.com/", "http://a\nb/"]
        )
    ]

    async def scenario(http: httpx.AsyncClient) -> None:
        for token in tokens:
            response = await http.get(f"/t/c/{token}")
            assert response.status_code == 404
            assert "location" not in response.headers

    run_tracker(store, codec, tmp_path, scenario)
    assert len(store.events.for_message(message)) == len(tokens)  # the clicks still count


def test_punctuation_a_mail_client_took_for_part_of_the_link_is_ignored(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    """In plain text a client may run the link on into the ")" or "。" after it: the
    token is still its leading run of base64url characters."""
    message = new_message_id()
    token = codec.click_token(message, 0, SENT, TARGET)

    async def scenario(http: httpx.AsyncClient) -> None:
        for tail in (")", ").", "%E3%80%82", "%C2%BB"):
            response = await http.get(f"/t/c/{token}{tail}")
            assert response.status_code == 302, tail
            assert response.headers["location"] == TARGET
        assert (await http.get(f"/t/c/{token[:-2]})")).status_code == 404  # cut short: no

    run_tracker(store, codec, tmp_path, scenario)
    assert len(store.events.for_message(message)) == 4


@pytest.mark.parametrize("declined", [{"Sec-GPC": "1"}, {"DNT": "1"}])
def test_a_click_that_asks_not_to_be_tracked_keeps_no_address_or_user_agent(
    store: Store, codec: TokenCodec, tmp_path: Path, declined: dict[str, str]
) -> None:
    message = new_message_id()
    token = codec.click_token(message, 1, SENT, TARGET)
    headers = {"User-Agent": "Mozilla/5.0 (Macintosh) Firefox/140.0", **declined}

    async def scenario(http: httpx.AsyncClient) -> None:
        response = await http.get(f"/t/c/{token}", headers=headers)
        assert response.status_code == 302 and response.headers["location"] == TARGET
        plain = await http.get(f"/t/c/{token}", headers={"User-Agent": "Mozilla/5.0"})
        assert plain.status_code == 302

    run_tracker(store, codec, tmp_path, scenario, locate=lambda address: "")
    declining, plain = store.events.for_message(message)
    assert (declining.kind, declining.link) == (EventKind.CLICK, 1)
    assert (declining.ip, declining.user_agent) == (None, None)
    assert declining.evidence == {name.lower(): "1" for name in declined}
    assert (plain.ip, plain.user_agent) == ("203.0.113.0", "Mozilla/5.0")
