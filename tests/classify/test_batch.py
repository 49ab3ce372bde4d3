"""The classifier on recorded hits: verdicts set per batch, earlier ones revised with
history, memory changed only once the batch is stored."""

from __future__ import annotations

from inkling.classify import Classifier
from inkling.classify.batch import BatchJudge
from inkling.model import Agent, Event, EventKind, InklingId, Verdict, new_event_id
from inkling.tokens import HONEYPOT_LINK

SENT = 1_796_000_000
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/153.0.0.0 Safari/537.36"
)
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
MESSAGE = InklingId("m" * 20)


def event(kind: EventKind, after: float, **fields: object) -> Event:
    defaults: dict[str, object] = {"sent_at": SENT, "ip": "81.2.69.0", "user_agent": CHROME}
    return Event(new_event_id(), MESSAGE, kind, SENT + after, "GET", **(defaults | fields))  # type: ignore[arg-type]


def judged(judge: BatchJudge, batch: list[Event], now: float) -> list[tuple[str, Verdict]]:
    result = judge.judge(batch, now)
    result.commit()
    return [(c.event, c.verdict) for c in result.changes]


def test_the_network_looked_up_from_the_whole_address_decides() -> None:
    judge = BatchJudge(Classifier())
    # Stored truncated to /24, the address is outside Apple's narrow egress range: the
    # tracker looked the whole one up and recorded the network it is in.
    mpp = event(
        EventKind.OPEN, 2, ip="172.225.6.0", network="apple_relay", user_agent="Mozilla/5.0"
    )
    assert judged(judge, [mpp], now=SENT + 3) == []
    assert (mpp.verdict, mpp.agent) == (Verdict.MACHINE, Agent.APPLE_MPP)
    assert any("Private Relay" in r for r in mpp.reasons)
    assert mpp.leanings and set(mpp.leanings) <= {"machine", "person", "neither"}
    # Looked up and in no published network: the truncated address is not looked up again.
    other = event(EventKind.OPEN, 2, ip="172.225.6.0", network="", user_agent="Mozilla/5.0")
    judged(judge, [other], now=SENT + 3)
    assert not any("Private Relay" in r for r in other.reasons)


def test_a_later_person_revises_an_uncertain_open_with_history() -> None:
    judge = BatchJudge(Classifier())
    opened = event(EventKind.OPEN, 60, ip="98.136.1.0", user_agent=YAHOO)
    judged(judge, [opened], now=SENT + 61)
    assert opened.verdict == Verdict.UNKNOWN
    clicked = event(EventKind.CLICK, 200, link=0)
    result = judge.judge([clicked], now=SENT + 201)
    assert clicked.verdict == Verdict.HUMAN
    [change] = result.changes
    assert (change.event, change.previous, change.verdict) == (
        opened.id,
        Verdict.UNKNOWN,
        Verdict.HUMAN,
    )
    assert change.agent == Agent.YAHOO_PROXY


def test_a_honeypot_hit_turns_the_burst_before_it_into_machines() -> None:
    judge = BatchJudge(Classifier())
    first = event(EventKind.CLICK, 20, ip="198.51.100.0", link=0)
    judged(judge, [first], now=SENT + 21)
    assert first.verdict != Verdict.MACHINE
    trap = event(EventKind.CLICK, 21, ip="198.51.100.0", link=HONEYPOT_LINK)
    assert judged(judge, [trap], now=SENT + 22) == [(first.id, Verdict.MACHINE)]
    assert trap.verdict == Verdict.MACHINE


def test_a_batch_not_committed_is_judged_again_from_the_same_history() -> None:
    """The loader calls commit() only once the batch is stored: a batch the database
    refused leaves the memory as it was, so judging it again gives the same changes."""
    judge = BatchJudge(Classifier())
    opened = event(EventKind.OPEN, 60, ip="98.136.1.0", user_agent=YAHOO)
    judged(judge, [opened], now=SENT + 61)
    clicked = event(EventKind.CLICK, 200, link=0)
    first = judge.judge([clicked], now=SENT + 201)  # the store refused it: no commit
    again = judge.judge([clicked], now=SENT + 202)
    assert [c.event for c in first.changes] == [c.event for c in again.changes] == [opened.id]
    again.commit()
    later = event(EventKind.CLICK, 300, link=1)
    assert judged(judge, [later], now=SENT + 301) == []  # the open was revised once


def test_one_batch_holds_a_whole_burst() -> None:
    """Hits of one message arriving in one batch are judged together: three links in two
    seconds from one address are a scanner's sweep, whatever the batch boundaries."""
    judge = BatchJudge(Classifier())
    sweep = [event(EventKind.CLICK, 1 + i * 0.5, ip="40.94.3.0", link=i) for i in range(3)]
    judged(judge, sweep, now=SENT + 3)
    assert [e.verdict for e in sweep] == [Verdict.MACHINE] * 3


def test_memory_is_bounded() -> None:
    judge = BatchJudge(Classifier(), max_messages=3, max_hits=5)
    for n in range(10):
        for k in range(8):
            hit = Event(new_event_id(), InklingId(f"{n:020d}"), EventKind.OPEN, SENT + k, "GET")
            judged(judge, [hit], now=SENT + k)
    assert len(judge._recent) == 3
    assert all(len(seen) == 5 for seen in judge._recent.values())


def test_a_live_yahoo_proxy_open_hours_after_sending_is_a_person() -> None:
    """The live judge knows each hit's send time (from its token): a Yahoo-proxy fetch
    three hours after sending is a person's, and one at delivery stays uncertain."""
    judge = BatchJudge(Classifier())
    at_delivery = event(EventKind.OPEN, 20, ip="98.136.1.0", user_agent=YAHOO)
    later = event(EventKind.OPEN, 3 * 3600, ip="98.136.1.0", user_agent=YAHOO)
    judged(judge, [at_delivery], now=SENT + 21)
    assert at_delivery.verdict == Verdict.UNKNOWN
    judged(judge, [later], now=SENT + 3 * 3600 + 1)
    assert (later.verdict, later.agent) == (Verdict.HUMAN, Agent.YAHOO_PROXY)
    assert any("long after delivery" in r for r in later.reasons)
