"""What an operator watches on a real ``inkling serve``: ``/metrics`` as Prometheus reads
it (verdicts by agent, the journal's backlog, the queue, the webhook outbox, the loader's,
the journal's and the inbound parser's timings), with the database there and away; the
JSON logs; and ``inkling status``'s queue figures."""

from __future__ import annotations

import json
import logging
import re
import smtplib
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from inkling.logs import JsonFormatter
from inkling.model import MessageIdHeader, MessageRecord, Priority, Status, Ticket
from inkling.routes import PIXEL_PREFIX
from inkling.store import Store
from inkling.store.webhooks import Subscription, Webhooks
from inkling.tokens import TokenCodec, new_message_id
from tests.e2e.server import ServerProcess, free_port
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

DOMAIN = "bounces.help.example"
#: Nothing listens on port 9 (discard) here: the database is unreachable, at once.
UNREACHABLE = "postgresql+psycopg://x@127.0.0.1:9/none"
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"
#: One open on each copy, by: two mail clients (a person's) and two programs.
AGENTS = (OUTLOOK, THUNDERBIRD, "curl/8.5.0", "python-requests/2.32.3")
NOT_OURS = b"From: someone@customer.example\r\nSubject: Hello\r\n\r\nNothing to record.\r\n"
#: A reply, matched to its message by the Message-ID it answers: a database read.
REPLY = b"From: ana@customer.example\r\nIn-Reply-To: <1.metrics@help.example>\r\n\r\nThanks!\r\n"
ISO_MS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Busy:
    """A node that loaded four opens, with two open tickets of three and a webhook whose
    endpoint never answers (its deliveries stay pending)."""

    server: ServerProcess
    store: Store
    copies: list[MessageRecord]


def scrape(server: ServerProcess) -> Samples:
    """Every sample ``/metrics`` answers, by name and labels (sorted)."""
    answer = httpx.get(f"{server.url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def verdicts(samples: Samples) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["verdict"], dict(labels)["agent"]): value
        for (name, labels), value in samples.items()
        if name == "inkling_verdicts_total"
    }


def wait_for(server: ServerProcess, done: Any, timeout: float = 30.0) -> Samples:
    """Scrape until ``done(samples)`` holds (the loader works on its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(server)
        if done(samples):
            return samples
        if time.monotonic() > deadline:
            raise TimeoutError(f"/metrics never said so: {samples}")
        time.sleep(0.05)


def deliver(port: int, raw: bytes) -> None:
    """One mail to the node's inbound MX; what it answers is the caller's to catch."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail("", [f"bounces+x@{DOMAIN}"], raw)


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Busy]:
    data_dir = tmp_path_factory.mktemp("metrics") / "data"
    data_dir.mkdir()
    inbound = free_port()
    server = ServerProcess(
        data_dir,
        args=("--inbound-port", str(inbound)),
        env={"INKLING_DURABILITY": "power", "INKLING_RETURN_DOMAIN": DOMAIN},
    )
    store = Store(f"sqlite:///{data_dir / 'inkling.db'}")
    try:
        server.wait_loaded()  # the server has made its database: two migrations would race
        copies = _seed(store, time.time())
        codec = TokenCodec.for_data_dir(data_dir)
        for copy, agent in zip(copies, AGENTS, strict=True):
            token = codec.open_token(copy.id, copy.sent_at)
            pixel = httpx.get(
                f"{server.url}{PIXEL_PREFIX}{token}.gif", headers={"User-Agent": agent}
            )
            assert pixel.status_code == 200
        deliver(inbound, NOT_OURS)  # parsed, and nothing to record
        wait_for(server, lambda s: sum(verdicts(s).values()) == len(AGENTS))
        yield Busy(server, store, copies)
    finally:
        store.close()
        server.stop()


def _seed(store: Store, now: float) -> list[MessageRecord]:
    """Three tickets (two open), a webhook for opens to an endpoint nobody listens at, and
    four copies sent an hour ago."""
    for ident, status in (("7001", Status.NEW), ("7002", Status.OPEN), ("7003", Status.SOLVED)):
        store.tickets.upsert(Ticket(ident, Priority.NORMAL, status, now - 86_400, now - 3600))
    Webhooks(store.database).add(
        Subscription(
            "wh_metrics",
            f"http://127.0.0.1:{free_port()}/hook",
            ("message.opened",),
            "s" * 32,
            now,
        )
    )
    copies = []
    for n in range(len(AGENTS)):
        copy = MessageRecord(
            new_message_id(),
            MessageIdHeader(f"<{n}.metrics@help.example>"),
            None,
            "7001",
            "Re: your refund",
            int(now - 3600),
            0,
            recipient="ana@customer.example",
        )
        store.messages.register(copy, [])
        copies.append(copy)
    return copies


def test_the_verdicts_by_agent_are_those_stored(busy: Busy) -> None:
    samples = scrape(busy.server)
    counted = verdicts(samples)
    assert counted == {("human", "mail_client"): 2, ("machine", "script"): 2}
    stored = Counter(
        (str(event.verdict), str(event.agent))
        for copy in busy.copies
        for event in busy.store.events.for_message(copy.id)
    )
    assert counted == stored
    assert samples[("inkling_hits_loaded_total", ())] == len(AGENTS)
    assert samples[("inkling_hits_recorded_total", ())] == len(AGENTS)


def test_the_backlog_the_queue_and_the_outbox(busy: Busy) -> None:
    samples = wait_for(busy.server, lambda s: s[("inkling_journal_backlog_hits", ())] == 0)
    assert samples[("inkling_database_up", ())] == 1
    assert samples[("inkling_tickets_open", ())] == 2  # the solved one is not in the queue
    # every open waits for the endpoint that never answers; none was given up on
    assert samples[("inkling_webhook_outbox_deliveries", (("state", "pending"),))] == 4
    assert samples[("inkling_webhook_outbox_deliveries", (("state", "failed"),))] == 0
    assert samples[("inkling_loader_lag_seconds", ())] >= 0


def test_the_loader_the_journal_and_the_inbound_parser_are_timed(busy: Busy) -> None:
    samples = scrape(busy.server)
    batches = samples[("inkling_loader_batch_seconds_count", ())]
    assert 1 <= batches <= len(AGENTS)
    assert samples[("inkling_loader_batch_seconds_bucket", (("le", "+Inf"),))] == batches
    assert samples[("inkling_journal_flush_seconds_count", ())] >= 1  # durability power
    assert samples[("inkling_inbound_parse_seconds_count", ())] == 1  # the one mail sent


def test_status_prints_the_queue_and_the_outbox(busy: Busy) -> None:
    data_dir = busy.server.data_dir
    as_json = inkling(data_dir, "status", "--json")
    assert as_json.returncode == 0, as_json.stderr
    found = json.loads(as_json.stdout)
    assert found["queue"] == {"open_tickets": 2, "webhook_outbox": {"pending": 4, "failed": 0}}
    assert found["journal"]["oldest_age_s"] is None  # nothing waits
    text = inkling(data_dir, "status")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.decode().splitlines()
    assert "queue: 2 open tickets; webhook outbox: 4 deliveries pending, 0 given up" in lines


@pytest.fixture(scope="module")
def away(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int]]:
    """A node whose database is unreachable, logging JSON from info up, with an inbound
    MX (whose deliveries fail: nothing can be matched without the database)."""
    data_dir = tmp_path_factory.mktemp("away") / "data"
    data_dir.mkdir()
    inbound = free_port()
    server = ServerProcess(
        data_dir,
        UNREACHABLE,
        args=("--log-level", "info", "--log-format", "json", "--inbound-port", str(inbound)),
        env={"INKLING_RETURN_DOMAIN": DOMAIN},
    )
    try:
        yield server, inbound
    finally:
        server.stop()


def test_metrics_answer_while_the_database_is_unreachable(
    away: tuple[ServerProcess, int],
) -> None:
    server, _ = away
    codec = TokenCodec.for_data_dir(server.data_dir)
    for n in range(3):
        token = codec.open_token(f"{n:020x}", int(time.time()) - 3600)
        assert httpx.get(f"{server.url}{PIXEL_PREFIX}{token}.gif").status_code == 200
    samples = wait_for(server, lambda s: s[("inkling_journal_backlog_age_seconds", ())] > 0)
    assert samples[("inkling_journal_backlog_hits", ())] == 3
    assert samples[("inkling_database_up", ())] == 0
    names = {name for name, _ in samples}
    # no figure the database would have to give, and nothing judged: no value, no error
    assert "inkling_tickets_open" not in names
    assert "inkling_webhook_outbox_deliveries" not in names
    assert "inkling_verdicts_total" not in names

    as_json = inkling(
        server.data_dir, "status", "--json", env={"INKLING_DATABASE_URL": UNREACHABLE}
    )
    found = json.loads(as_json.stdout)
    assert found["queue"] == {"open_tickets": None, "webhook_outbox": None}
    assert found["journal"]["backlog_events"] == 3 and found["journal"]["oldest_age_s"] >= 0


def test_logs_are_one_json_object_per_line(away: tuple[ServerProcess, int]) -> None:
    server, inbound = away
    with pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(inbound, REPLY)  # the database is needed to match it
    assert refused.value.smtp_code == 451
    lines = server.log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line, or it raises
    assert all(isinstance(record, dict) for record in records)
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys()
        assert ISO_MS_UTC.fullmatch(record["time"])
    loggers = {record["logger"] for record in records}
    assert {"inkling.serve", "uvicorn.error", "inkling.inbound.server"} <= loggers
    assert any(r["message"].startswith("Inkling on http://") for r in records)
    [failed] = [r for r in records if r["level"] == "ERROR" and "inbound" in r["message"]]
    assert failed["logger"] == "inkling.inbound.server"
    assert "Traceback" in failed["exception"] and "StoreUnavailable" in failed["exception"]


def test_a_json_log_line_escapes_what_a_terminal_would_act_on() -> None:
    try:
        raise ValueError("bad \x1b]0;owned\x07")
    except ValueError:
        record = logging.LogRecord(
            "inkling.x", logging.ERROR, __file__, 1, "agent %s", ("\u202eevil\x9b",), None
        )
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert line.isascii() and "\n" not in line and "\x1b" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "agent \u202eevil\x9b"
    assert parsed["exception"].endswith("ValueError: bad \x1b]0;owned\x07")
