"""Password guessing at the relay's AUTH is limited: per connection (421, closed), per
client address (growing delays, then 454 for a while), without stalling other clients.
Real SMTP connections from two loopback addresses; attempts counted, delays measured."""

from __future__ import annotations

import asyncio
import base64
import logging
import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from inkling.relay import LoginLimits
from inkling.relay.logins import FREE_CONCURRENT, LoginGuard
from tests.relay.conftest import Relay, RelayFactory

USER, PASSWORD = "helpdesk", "s3cret"
OTHER_ADDRESS = "127.0.0.2"  # loopback too, but another client address


@contextmanager
def connection(relay: Relay, source: str = "127.0.0.1") -> Iterator[smtplib.SMTP]:
    client = smtplib.SMTP("127.0.0.1", relay.port, timeout=30, source_address=(source, 0))
    try:
        client.ehlo()
        yield client
    finally:
        client.close()


def auth(client: smtplib.SMTP, password: str, user: str = USER) -> tuple[int, float]:
    """One AUTH PLAIN: the reply code and how long it took."""
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    started = time.monotonic()
    code, _ = client.docmd("AUTH", f"PLAIN {token}")
    return code, time.monotonic() - started


def auth_login(client: smtplib.SMTP, password: str) -> int:
    """One AUTH LOGIN, whose password comes in a second round trip: the final code."""
    code, _ = client.docmd("AUTH", f"LOGIN {base64.b64encode(USER.encode()).decode()}")
    if code != 334:
        return code
    return client.docmd(base64.b64encode(password.encode()).decode())[0]


def relay_with(relay_factory: RelayFactory, limits: LoginLimits) -> Relay:
    return relay_factory(relay_username=USER, relay_password=PASSWORD, logins=limits)


def test_a_connection_is_closed_after_its_failures(relay_factory: RelayFactory) -> None:
    relay = relay_with(relay_factory, LoginLimits(per_connection=3, first_delay=0.2, max_delay=1.0))
    with connection(relay) as client:
        first, second, third = (auth(client, f"guess-{n}") for n in range(3))
        assert first[0] == second[0] == 535 and third[0] == 421
        assert first[1] < 0.2  # no failure yet: no wait
        assert second[1] >= 0.2 and third[1] >= 0.4  # the wait doubles
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
    with connection(relay) as client:  # the right password still works, after the wait
        code, took = auth(client, PASSWORD)
        assert code == 235 and took >= 0.8


def test_the_limits_come_from_the_settings(relay_factory: RelayFactory) -> None:
    relay = relay_factory(
        relay_username=USER, relay_password=PASSWORD, relay_auth_failures_per_connection=1
    )
    with connection(relay) as client:
        assert auth(client, "wrong")[0] == 421


def test_an_address_is_refused_for_a_while(relay_factory: RelayFactory) -> None:
    window = 2.0
    limits = LoginLimits(
        per_connection=3, per_address=4, window=window, first_delay=0.1, max_delay=0.4
    )
    relay = relay_with(relay_factory, limits)
    started = time.monotonic()
    with connection(relay) as client:
        assert [auth(client, "wrong")[0] for _ in range(3)] == [535, 535, 421]
    with connection(relay) as client:
        assert auth(client, "wrong")[0] == 535  # the 4th failure in the window
        code, took = auth(client, PASSWORD)  # even the right password, now
        assert code == 454 and took >= 0.4
    with connection(relay, OTHER_ADDRESS) as client:  # another address is not affected
        assert auth(client, PASSWORD)[0] == 235
    time.sleep(max(0.0, started + window + 0.2 - time.monotonic()))
    with connection(relay) as client:  # the oldest failures have aged out
        assert auth(client, PASSWORD)[0] == 235


def test_hammering_gets_no_more_guesses_than_the_limit(relay_factory: RelayFactory) -> None:
    per_address, attackers = 10, 24
    relay = relay_with(
        relay_factory, LoginLimits(per_address=per_address, first_delay=0.01, max_delay=0.05)
    )
    answers: list[int] = []
    lock = threading.Lock()
    together = threading.Barrier(attackers)
    stop_at = time.monotonic() + 4.0

    def attacker() -> None:
        client = smtplib.SMTP("127.0.0.1", relay.port, timeout=30)
        client.ehlo()
        together.wait(10)  # every connection sends its first AUTH at once
        while time.monotonic() < stop_at:
            try:
                code = auth_login(client, "guess")  # the slowest kind to check
            except smtplib.SMTPServerDisconnected:
                code = 421
            with lock:
                answers.append(code)
            if code == 421:
                client.close()
                client = smtplib.SMTP("127.0.0.1", relay.port, timeout=30)
                client.ehlo()
        client.close()

    threads = [threading.Thread(target=attacker) for _ in range(attackers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    checked = [code for code in answers if code in (535, 421)]  # a password was tried
    assert per_address <= len(checked) <= per_address + FREE_CONCURRENT, len(checked)
    assert answers.count(454) > attackers and set(answers) <= {535, 421, 454}


def test_a_waiting_client_does_not_hold_up_others(relay_factory: RelayFactory) -> None:
    relay = relay_with(relay_factory, LoginLimits(per_connection=5, first_delay=3.0, max_delay=3.0))
    with connection(relay) as client:
        assert auth(client, "wrong")[0] == 535
    done: list[float] = []

    def slow() -> None:
        with connection(relay) as client:
            done.append(auth(client, "wrong again")[1])

    waiting = threading.Thread(target=slow)
    waiting.start()
    time.sleep(0.3)
    with connection(relay, OTHER_ADDRESS) as other:
        code, took = auth(other, PASSWORD)
    waiting.join(10)
    assert code == 235 and took < 2.0  # answered while the first client still waits
    assert done and done[0] >= 3.0


def test_failures_are_logged_with_the_name_escaped_and_never_the_password(
    relay_factory: RelayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    relay = relay_with(relay_factory, LoginLimits(first_delay=0.01))
    hostile = "evil\r\n2026-12-01 INFO inkling: all is well\x1b[2J"
    with caplog.at_level(logging.WARNING, logger="inkling.relay"), connection(relay) as client:
        assert auth(client, "hunter2-secret", user=hostile)[0] == 535
    [line] = [r.getMessage() for r in caplog.records if "failed relay login" in r.getMessage()]
    assert repr(hostile) in line and "\r" not in line and "\x1b" not in line
    assert "hunter2-secret" not in caplog.text
    assert "127.0.0.1" in line


def test_the_address_table_is_bounded() -> None:
    async def main() -> LoginGuard:
        guard = LoginGuard(LoginLimits(max_addresses=100, first_delay=0.0))
        for n in range(1000):
            async with guard.attempt(f"10.0.{n // 250}.{n % 250}") as attempt:
                attempt.failed = True
        for host in ("2001:db8::1", "2001:db8::2:3"):  # one /64: one client
            async with guard.attempt(host) as attempt:
                attempt.failed = True
        assert guard.recent_failures("2001:db8::ffff") == 2
        return guard

    guard = asyncio.run(main())
    assert guard.remembered <= 100
    assert guard.recent_failures("10.0.0.0") == 0  # forgotten, the oldest first
