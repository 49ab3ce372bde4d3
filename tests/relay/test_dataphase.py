"""DATA driven by hand: the hook runs with everything but the final dot written, the
upstream has nothing until the dot, and the bytes are those aiosmtplib would send."""

from __future__ import annotations

import asyncio
import time

from inkling.relay.upstream import HELD_BACK, IN_DOUBT, Transaction, Upstream
from tests.relay.conftest import Sink
from tests.relay.messages import support_reply
from tests.relay.test_relay import ANN

STUFFED = support_reply() + b".a line that starts with a dot\r\n..and one with two\r\n"


def _transaction(sink: Sink) -> Transaction:
    upstream = Upstream("127.0.0.1", sink.port, "plain")
    return Transaction(upstream, local_hostname="relay.test", sender="s@acme.example", options=[])


def _send(sink: Sink, data: bytes, hook_answer: bool) -> tuple[str, list[int], list[int]]:
    """Send ``data``; the reply line, and the sink's count of messages seen by the hook
    and right after it."""
    seen_in_hook: list[int] = []
    seen_after: list[int] = []

    async def before_final_dot() -> bool:
        await asyncio.sleep(0.3)  # time enough for the upstream to act, if it could
        seen_in_hook.append(sink.handler.transactions)
        return hook_answer

    async def main() -> str:
        transaction = _transaction(sink)
        assert (await transaction.add_recipient(ANN)).ok
        reply = await transaction.send(data, before_final_dot)
        await asyncio.sleep(0.3)
        seen_after.append(sink.handler.transactions)
        return reply.line

    return asyncio.run(main()), seen_in_hook, seen_after


def test_the_hook_runs_before_the_final_dot(sink: Sink) -> None:
    line, in_hook, after = _send(sink, STUFFED, True)
    assert line == "250 2.0.0 queued"
    assert (in_hook, after) == ([0], [1])  # nothing delivered until the dot
    [received] = sink.handler.received
    assert received.content == STUFFED  # dot-stuffing undone by the server: same bytes


def test_a_hook_that_says_no_sends_nothing(sink: Sink) -> None:
    line, in_hook, after = _send(sink, STUFFED, False)
    assert line == HELD_BACK.line
    assert (in_hook, after) == ([0], [0])
    time.sleep(0.2)
    assert sink.handler.received == []


def test_an_answer_lost_after_the_dot_is_in_doubt(sink: Sink) -> None:
    sink.handler.hang_up_after_message = True
    line, _, _ = _send(sink, support_reply(), True)
    assert line == IN_DOUBT.line
    assert len(sink.handler.received) == 1


def test_a_refusal_at_the_dot_is_the_upstreams(sink: Sink) -> None:
    sink.handler.refuse_data_for = {ANN: "552 5.3.4 message too big"}
    line, in_hook, _ = _send(sink, support_reply(), True)
    assert (line, in_hook) == ("552 5.3.4 message too big", [0])
