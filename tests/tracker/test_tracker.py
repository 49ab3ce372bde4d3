"""The tracker app on each backend: pixel, redirect, HEAD, bad tokens, recorded evidence."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from inkling.classify import Classifier
from inkling.classify.live import LiveJudge
from inkling.events.model import Event, EventKind, Verdict
from inkling.events.recorder import Recorder
from inkling.events.spool import Spool
from inkling.store import Store
from inkling.tokens import HONEYPOT_LINK, TokenCodec, new_message_id
from inkling.tracker import TRANSPARENT_GIF, ClientAddress, Tracker

SENT = 1_790_000_000
TARGET = "https://help.acme.example/guide?a=1&b=%C3%BC"
Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


def run_tracker(
    store: Store,
    codec: TokenCodec,
    spool_dir: Path,
    scenario: Scenario,
    client: ClientAddress | None = None,
) -> None:
    """Run ``scenario`` against a tracker whose recorder writes to ``store``."""

    async def main() -> None:
        recorder = Recorder(store, Spool(spool_dir))
        await recorder.start()
        app = Tracker(codec, recorder.record, client or ClientAddress())
        transport = httpx.ASGITransport(app=app, client=("203.0.113.77", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await scenario(http)
        await recorder.close()

    asyncio.run(main())


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
    [event] = store.events_for(message)
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
    [event] = store.events_for(message)
    assert (event.kind, event.link, event.ip) == (EventKind.CLICK, 4, "203.0.113.0")
    assert event.headers["referer"] == "https://outlook.office.com/"
    assert event.headers["accept-language"] == "de-DE,de;q=0.9"
    assert event.headers["sec-purpose"] == "prefetch"
    assert "cookie" not in event.headers


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
    assert [(e.kind, e.method) for e in store.events_for(message)] == [
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
    assert store.count_events() == 0


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
    trusted, untrusted = store.events_for(message)
    assert trusted.ip == "198.51.100.0"
    assert trusted.headers["x-forwarded-for"] == "198.51.100.0, 203.0.113.0"
    assert untrusted.ip == "203.0.113.0"
    assert "x-forwarded-for" not in untrusted.headers


def test_full_ip_is_kept_only_when_configured(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        await http.get(f"/t/o/{token}.gif")

    run_tracker(store, codec, tmp_path, scenario, ClientAddress(keep_full=True))
    assert store.events_for(message)[0].ip == "203.0.113.77"


def test_concurrent_hits_are_all_recorded_in_batches(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        responses = await asyncio.gather(*(http.get(f"/t/o/{token}.gif") for _ in range(300)))
        assert all(r.status_code == 200 for r in responses)

    run_tracker(store, codec, tmp_path, scenario)
    assert len(store.events_for(message)) == 300


def test_hits_are_spooled_while_the_database_is_away(codec: TokenCodec, tmp_path: Path) -> None:
    """A database that cannot be reached costs no acknowledged hit: they wait in the spool
    and move into the database once one answers."""
    away = Store("postgresql+psycopg://postgres@127.0.0.1:9/nowhere", migrate=False)
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def scenario(http: httpx.AsyncClient) -> None:
        for _ in range(5):
            assert (await http.get(f"/t/o/{token}.gif")).status_code == 200

    run_tracker(away, codec, tmp_path, scenario)
    assert Spool(tmp_path).pending()

    store = Store(f"sqlite:///{tmp_path / 'inkling.db'}")
    run_tracker(store, codec, tmp_path, lambda http: asyncio.sleep(0))
    assert len(store.events_for(message)) == 5
    assert not Spool(tmp_path).pending()


@pytest.mark.parametrize("path", ["/", "/t/x/abc", "/t/o/abc.png"])
def test_other_paths_are_not_found(
    store: Store, codec: TokenCodec, tmp_path: Path, path: str
) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        assert (await http.get(path)).status_code == 404

    run_tracker(store, codec, tmp_path, scenario)


def test_batches_are_cut_at_batch_max_and_all_recorded(store: Store, tmp_path: Path) -> None:
    """Hits beyond ``batch_max`` wait for the next commit; none is lost or answered early."""
    message = new_message_id()

    async def main() -> None:
        recorder = Recorder(store, Spool(tmp_path), batch_max=7)
        await recorder.start()
        hits = [recorder.record(Event(message, EventKind.OPEN, SENT + i, "GET")) for i in range(50)]
        await asyncio.gather(*hits)
        await recorder.close()

    asyncio.run(main())
    assert len(store.events_for(message)) == 50


def test_a_cancelled_hit_does_not_fail_the_others_of_its_batch(
    store: Store, tmp_path: Path
) -> None:
    """Hits of one batch share a future: cancelling one request must not cancel it for the
    rest (they are still answered once the batch is durable)."""
    message = new_message_id()

    async def main() -> None:
        recorder = Recorder(store, Spool(tmp_path))
        await recorder.start()

        async def hit(i: int) -> None:
            await recorder.record(Event(message, EventKind.OPEN, SENT + i, "GET"))

        tasks = [asyncio.create_task(hit(i)) for i in range(10)]
        await asyncio.sleep(0)  # every task is now waiting on the batch
        tasks[3].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[3], asyncio.CancelledError)
        assert all(r is None for i, r in enumerate(results) if i != 3)
        await recorder.close()

    asyncio.run(main())
    assert len(store.events_for(message)) == 10  # the cancelled hit was written all the same


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
    [event] = store.events_for(message)
    assert (event.kind, event.link) == (EventKind.CLICK, HONEYPOT_LINK)


def test_recorded_hits_carry_verdicts_judged_on_the_whole_address(
    store: Store, codec: TokenCodec, tmp_path: Path
) -> None:
    """The recorder's judge sees the address before truncation (203.0.113.77 here is in
    no published range, so only the user agent decides) and stores the verdict."""
    message = new_message_id()
    token = codec.open_token(message, SENT)

    async def main() -> None:
        recorder = Recorder(store, Spool(tmp_path), judge=LiveJudge(Classifier()))
        await recorder.start()
        app = Tracker(codec, recorder.record, ClientAddress())
        transport = httpx.ASGITransport(app=app, client=("203.0.113.77", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get(f"/t/o/{token}.gif", headers={"User-Agent": "Mozilla/5.0"})
        await recorder.close()

    asyncio.run(main())
    [event] = store.events_for(message)
    assert (event.verdict, event.agent, event.ip) == (Verdict.MACHINE, "apple_mpp", "203.0.113.0")
