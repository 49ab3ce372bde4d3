"""The classifier on live events: verdicts set at once, earlier ones revised with history."""

from __future__ import annotations

from inkling.classify import Classifier
from inkling.classify.live import LiveJudge
from inkling.events.model import Event, EventKind, Verdict
from inkling.tokens import HONEYPOT_LINK

SENT = 1_796_000_000
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/153.0.0.0 Safari/537.36"
)
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"


def event(kind: EventKind, after: float, **fields: object) -> Event:
    defaults: dict[str, object] = {"sent_at": SENT, "ip": "81.2.69.0", "user_agent": CHROME}
    return Event("m" * 20, kind, SENT + after, "GET", **(defaults | fields))  # type: ignore[arg-type]


def test_each_event_gets_a_verdict_from_the_whole_address() -> None:
    judge = LiveJudge(Classifier())
    # Stored truncated to /24, the address is outside Apple's narrow egress range: the
    # classifier must see the whole one.
    mpp = event(EventKind.OPEN, 2, ip="172.225.6.0", peer="172.225.6.9", user_agent="Mozilla/5.0")
    assert judge.judge([mpp], now=SENT + 3) == []
    assert (mpp.verdict, mpp.agent) == (Verdict.MACHINE, "apple_mpp")
    assert any("Private Relay" in r for r in mpp.reasons)


def test_a_later_person_revises_an_uncertain_open_with_history() -> None:
    judge = LiveJudge(Classifier())
    opened = event(EventKind.OPEN, 60, ip="98.136.1.0", user_agent=YAHOO)
    judge.judge([opened], now=SENT + 61)
    assert opened.verdict == Verdict.UNKNOWN
    clicked = event(EventKind.CLICK, 200, link=0)
    changes = judge.judge([clicked], now=SENT + 201)
    assert clicked.verdict == Verdict.HUMAN
    assert [(c.ts, c.verdict, c.agent) for c in changes] == [
        (opened.ts, Verdict.HUMAN, "yahoo_proxy")
    ]
    assert opened.verdict == Verdict.HUMAN


def test_a_honeypot_hit_turns_the_burst_before_it_into_machines() -> None:
    judge = LiveJudge(Classifier())
    first = event(EventKind.CLICK, 20, ip="198.51.100.0", peer="198.51.100.20", link=0)
    judge.judge([first], now=SENT + 21)
    assert first.verdict != Verdict.MACHINE
    trap = event(EventKind.CLICK, 21, ip="198.51.100.0", peer="198.51.100.21", link=HONEYPOT_LINK)
    changes = judge.judge([trap], now=SENT + 22)
    assert trap.verdict == Verdict.MACHINE
    assert [(c.ts, c.verdict) for c in changes] == [(first.ts, Verdict.MACHINE)]


def test_memory_is_bounded() -> None:
    judge = LiveJudge(Classifier(), max_messages=3, max_hits=5)
    for n in range(10):
        for k in range(8):
            judge.judge([Event(f"{n:020d}", EventKind.OPEN, SENT + k, "GET")], now=SENT + k)
    assert len(judge._recent) == 3
    assert all(len(seen) == 5 for seen in judge._recent.values())
