"""Each copy is delivered exactly once: resends while a delivery is under way, resends
after a lost answer, claims left behind by a process that died, and temporary refusals
that must stay temporary. Real SMTP clients, a real relay, a real (stalling) upstream."""

from __future__ import annotations

import asyncio
import smtplib
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from inkling import root
from inkling.config import Settings
from inkling.model import MessageIdHeader, MessageRecord
from inkling.relay import claiming
from inkling.relay.delivery import IN_FLIGHT
from inkling.relay.liveness import THIS_PROCESS, Holder
from inkling.store import Claim, ClaimState, Store
from inkling.tokens import new_message_id
from tests.relay.conftest import BASE_URL, Received, Relay, RelayFactory, Sink, StallPoint
from tests.relay.messages import support_reply
from tests.relay.test_relay import ANN, BOB

MESSAGE_ID = "<reply-1@acme.example>"
SUPPORT = "support@acme.example"


def transact(relay: Relay, recipients: list[str], message: bytes | None = None) -> tuple[int, str]:
    """One SMTP transaction through the relay: the reply to DATA (code, text)."""
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.ehlo()
        client.mail(SUPPORT)
        for recipient in recipients:
            code, text = client.rcpt(recipient)
            assert code == 250, (recipient, code, text)
        code, text = client.data(message or support_reply())
        return code, text.decode()


def recipients_of(received: list[Received]) -> list[str]:
    return sorted(r for copy in received for r in copy.rcpt_tos)


def settled(sink: Sink, count: int) -> list[Received]:
    """What the sink holds once ``count`` messages arrived and nothing more came."""
    received = sink.wait_for(count)
    time.sleep(0.3)
    return list(received)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


@pytest.mark.parametrize("point", ["data_command", "message"])
def test_a_resend_during_an_in_flight_delivery_is_not_sent_twice(
    relay: Relay, sink: Sink, pool: ThreadPoolExecutor, point: StallPoint
) -> None:
    stall = sink.stall(point)
    first: Future[tuple[int, str]] = pool.submit(transact, relay, [ANN, BOB])
    assert stall.reached.wait(10), "the upstream never got the first attempt"

    code, text = transact(relay, [ANN, BOB])  # the helpdesk resends, first still going
    assert code == 451 and "another connection" in text, (code, text)
    kept_already = [] if point == "data_command" else [ANN]
    assert recipients_of(sink.handler.received) == kept_already

    stall.release.set()
    assert first.result(timeout=30) == (250, "2.0.0 relayed as 2 copies")
    assert transact(relay, [ANN, BOB]) == (250, "2.0.0 relayed as 2 copies")
    assert recipients_of(settled(sink, 2)) == [ANN, BOB]  # each copy exactly once
    records = relay.services.store.messages.copies_of(MESSAGE_ID)
    assert sorted(r.recipient for r in records) == [ANN, BOB]
    assert all(r.relayed_at is not None for r in records)
    assert relay.services.store.deliveries.unsettled() == []


def test_a_delivery_under_way_renews_its_lease(
    relay_factory: RelayFactory,
    sink: Sink,
    pool: ThreadPoolExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(claiming, "LEASE_SECONDS", 0.6)
    relay = relay_factory()
    stall = sink.stall("message")
    first = pool.submit(transact, relay, [ANN])
    assert stall.reached.wait(10)
    time.sleep(1.5)  # more than twice the lease
    [claim] = relay.services.store.deliveries.unsettled()
    assert claim.state is ClaimState.COMMITTING and claim.lease_until > time.time()
    stall.release.set()
    assert first.result(timeout=30)[0] == 250
    assert relay.services.store.deliveries.unsettled() == []


def test_a_temporary_refusal_of_one_copy_stays_temporary(relay: Relay, sink: Sink) -> None:
    sink.handler.refuse_data_for = {BOB: "451 4.3.2 system busy, try again later"}
    assert transact(relay, [ANN, BOB]) == (451, "4.3.2 system busy, try again later")
    assert recipients_of(settled(sink, 1)) == [ANN]  # and no report to the sender
    records = relay.services.store.messages.copies_of(MESSAGE_ID)
    assert [(r.recipient, r.relayed_at is not None) for r in records] == [(ANN, True)]

    sink.handler.refuse_data_for = {}
    assert transact(relay, [ANN, BOB]) == (250, "2.0.0 relayed as 2 copies")
    received = settled(sink, 2)
    assert [c.rcpt_tos for c in received] == [[ANN], [BOB]]  # the retry sent Bob's only
    assert all(c.mail_from != "<>" for c in received)


def test_a_temporary_refusal_of_the_first_copy_sends_nothing(relay: Relay, sink: Sink) -> None:
    sink.handler.refuse_data_for = {ANN: "421 4.7.0 slow down"}
    assert transact(relay, [ANN, BOB]) == (421, "4.7.0 slow down")
    assert sink.handler.transactions == 1 and sink.handler.received == []
    sink.handler.refuse_data_for = {}
    assert transact(relay, [ANN, BOB])[0] == 250
    assert recipients_of(settled(sink, 2)) == [ANN, BOB]


def test_an_answer_lost_after_the_final_dot_counts_as_delivered(relay: Relay, sink: Sink) -> None:
    sink.handler.hang_up_after_message = True
    code, text = transact(relay, [ANN])
    assert (code, text) == (250, "2.0.0 relayed as 1 copy")
    assert recipients_of(settled(sink, 1)) == [ANN]
    record = relay.services.store.messages.find(MESSAGE_ID)
    assert record.relayed_at is not None
    assert transact(relay, [ANN]) == (250, "2.0.0 relayed as 1 copy")
    assert recipients_of(settled(sink, 1)) == [ANN]  # not sent again


def test_a_recipient_named_twice_gets_one_copy(relay: Relay, sink: Sink) -> None:
    assert transact(relay, [ANN, ANN.upper(), BOB])[0] == 250
    assert recipients_of(settled(sink, 2)) == [ANN, BOB]


# -- claims left by other processes -------------------------------------------------------


def dead_pid() -> int:
    """The PID of a process that has exited and been reaped."""
    with subprocess.Popen(["true"]) as process:
        process.wait()
    return process.pid


def leave_claim(
    store: Store, *, recipient: str, state: ClaimState, holder: str, lease: float = 120.0
) -> Claim:
    """What a process that stopped mid-delivery leaves: its copy's record and claim."""
    ident = new_message_id()
    record = MessageRecord(
        id=ident,
        message_id=MessageIdHeader(MESSAGE_ID),
        workflow=None,
        ticket=None,
        subject="Your refund",
        sent_at=int(time.time()) - 60,
        links_total=0,
        recipient=recipient,
    )
    store.messages.register(record, [])
    now = time.time()
    claim = Claim(MESSAGE_ID, recipient, ident, state, holder, now + lease, now - 30)
    store.deliveries.claim([claim])
    return claim


def holder_of(pid: int) -> str:
    return str(Holder(THIS_PROCESS.me.host, pid, "0123456789abcdef"))


def test_a_claim_left_before_the_final_dot_is_sent_on_resend(relay: Relay, sink: Sink) -> None:
    store = relay.services.store
    left = leave_claim(store, recipient=ANN, state=ClaimState.CLAIMED, holder=holder_of(dead_pid()))
    assert transact(relay, [ANN])[0] == 250
    assert recipients_of(settled(sink, 1)) == [ANN]
    [record] = store.messages.copies_of(MESSAGE_ID)
    assert record.id != left.copy and record.relayed_at is not None
    assert store.deliveries.unsettled() == []


def test_a_claim_left_after_the_final_dot_is_acknowledged(relay: Relay, sink: Sink) -> None:
    store = relay.services.store
    left = leave_claim(
        store, recipient=ANN, state=ClaimState.COMMITTING, holder=holder_of(dead_pid())
    )
    assert transact(relay, [ANN]) == (250, "2.0.0 relayed as 1 copy")
    assert settled(sink, 0) == []
    [record] = store.messages.copies_of(MESSAGE_ID)
    assert (record.id, record.relayed_at) == (left.copy, int(left.updated_at))


def test_a_live_holder_keeps_its_claim_until_its_lease_lapses(relay: Relay, sink: Sink) -> None:
    store = relay.services.store
    with subprocess.Popen(["sleep", "30"]) as alive:
        try:
            claim = leave_claim(
                store, recipient=ANN, state=ClaimState.CLAIMED, holder=holder_of(alive.pid)
            )
            assert transact(relay, [ANN])[0] == 451
            assert settled(sink, 0) == []
            store.deliveries.release([claim])
            leave_claim(
                store,
                recipient=ANN,
                state=ClaimState.CLAIMED,
                holder=holder_of(alive.pid),
                lease=-1.0,  # it stopped renewing: gone, even though the PID runs
            )
            assert transact(relay, [ANN])[0] == 250
            assert recipients_of(settled(sink, 1)) == [ANN]
        finally:
            alive.kill()


def test_a_claim_on_another_host_holds_for_its_lease(relay: Relay, sink: Sink) -> None:
    store = relay.services.store
    elsewhere = str(Holder("node-2/boot/pid:[1]", THIS_PROCESS.me.pid, "feedfacecafebeef"))
    leave_claim(store, recipient=ANN, state=ClaimState.COMMITTING, holder=elsewhere)
    assert transact(relay, [ANN])[0] == 451  # same PID as ours, but on another host


def test_claims_left_behind_are_settled_when_the_relay_starts(
    relay_factory: RelayFactory, sink: Sink, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE_URL)
    store = root.open_services(settings).store
    gone = holder_of(dead_pid())
    sent = leave_claim(store, recipient=ANN, state=ClaimState.COMMITTING, holder=gone)
    unsent = leave_claim(store, recipient=BOB, state=ClaimState.CLAIMED, holder=gone)
    store.close()

    relay = relay_factory()
    store = relay.services.store
    assert store.deliveries.unsettled() == []
    assert [r.id for r in store.messages.copies_of(MESSAGE_ID)] == [sent.copy]
    assert store.messages.find(sent.copy).relayed_at == int(sent.updated_at)
    assert unsent.copy not in {r.id for r in store.messages.copies_of(MESSAGE_ID)}
    assert transact(relay, [ANN, BOB]) == (250, "2.0.0 relayed as 2 copies")
    assert recipients_of(settled(sink, 1)) == [BOB]


def test_the_sending_api_sends_the_copies_not_busy_elsewhere(
    relay: Relay, sink: Sink, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE_URL, relay_upstream=sink.url)
    outbound = root.outbound(settings, relay.services)
    with subprocess.Popen(["sleep", "30"]) as alive:
        try:
            leave_claim(
                relay.services.store,
                recipient=ANN,
                state=ClaimState.COMMITTING,
                holder=holder_of(alive.pid),
            )

            async def send() -> list[tuple[str, str]]:
                envelope = outbound.envelope(SUPPORT)
                for recipient in (ANN, BOB):
                    assert (await envelope.add(recipient)).ok
                outcomes = await outbound.delivery.send(
                    envelope, support_reply(), all_or_nothing=False
                )
                return [(o.copy.record.recipient, o.reply.line) for o in outcomes]

            assert asyncio.run(send()) == [
                (ANN, IN_FLIGHT.line),
                (BOB, "250 2.0.0 queued"),
            ]
        finally:
            alive.kill()
    assert recipients_of(settled(sink, 1)) == [BOB]
