"""Content and subject figures on hand-built stories, on each backend: per link URL
(human opens and clicks, click-through, clicked then came back, downloads, flags) and per
subject line (human open rate, not opened), people only."""

from __future__ import annotations

from typing import Any

from inkling.model import Agent, Verdict
from inkling.reports.flags import THRESHOLDS, is_download
from inkling.reports.signals import bucket
from inkling.store import Store
from tests.reports.stories import DAY, HELP, Desk, t

GOOD = HELP + "reset-password"
LONG = HELP + "configure-sso"
PDF = "https://files.example.com/invoices/2026-11.PDF"


def _link(report: dict[str, Any], url: str) -> dict[str, Any]:
    return next(link for link in report["content"] if link["url"] == url)


def test_an_article_people_open_but_do_not_click(store: Store) -> None:
    desk = Desk(store)
    for n in range(10):
        desk.ticket(f"t{n}", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z", requester=f"{n}@x.ex")
        sent = desk.send(f"t{n}", "2026-11-02T10:00:00Z", [LONG])
        if n < 8:
            desk.opened(sent, "2026-11-02T11:00:00Z")
            desk.opened(sent, "2026-11-02T12:00:00Z")  # twice: still one message opened
        if n == 0:
            desk.clicked(sent, "2026-11-02T11:01:00Z")
        # every message's link checked by a scanner, every pixel fetched by Apple
        desk.clicked(sent, "2026-11-02T10:00:01Z", verdict=Verdict.MACHINE, agent=Agent.MIMECAST)
        desk.opened(sent, "2026-11-02T10:00:09Z", verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP)

    link = _link(desk.report(), LONG)

    assert link == {
        "url": LONG,
        "messages": 10,
        "human_opens": 8,
        "human_clicks": 1,
        "click_through": 0.125,
        "clicked_then_came_back": 0.0,
        "download": False,
        "flags": [],
        "raw_opens": 10,  # Apple's proxy fetched every pixel
        "raw_clicks": 10,  # a scanner clicked every link
    }
    # Eight more messages opened and not clicked: 1 click of 16, under 10 %.
    desk.ticket("more", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z", requester="m@x.ex")
    for _ in range(8):
        desk.opened(desk.send("more", "2026-11-02T10:00:00Z", [LONG]), "2026-11-02T11:00:00Z")
    link = _link(desk.report(), LONG)
    assert (link["human_opens"], link["human_clicks"], link["click_through"]) == (16, 1, 0.062)
    assert link["flags"] == ["opened_not_clicked"]


def test_an_article_that_did_not_help_and_one_that_did(store: Store) -> None:
    desk = Desk(store)
    # Three people clicked LONG: two came back (a reply, a new ticket), one did not.
    for n, back in enumerate(["reply", "ticket", None]):
        who = f"long{n}@x.example"
        desk.ticket(f"long{n}", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z", requester=who)
        sent = desk.send(f"long{n}", "2026-11-02T10:00:00Z", [GOOD, LONG])
        click = t("2026-11-02T11:00:00Z")
        desk.clicked(sent, click, link=1)
        if back == "reply":
            desk.replied(sent, click + 2 * DAY)
        elif back == "ticket":
            desk.ticket(f"long{n}-again", click + 6 * DAY, requester=who)
    # Two people clicked GOOD and nobody came back within 7 days (one after 8).
    for n in range(2):
        desk.ticket(f"good{n}", "2026-11-09T09:00:00Z", "2026-11-10T09:00:00Z", requester=f"g{n}@x")
        sent = desk.send(f"good{n}", "2026-11-09T10:00:00Z", [GOOD])
        desk.opened(sent, "2026-11-09T10:59:00Z")
        desk.clicked(sent, "2026-11-09T11:00:00Z")
        if n == 1:
            desk.replied(sent, t("2026-11-09T11:00:00Z") + 8 * DAY)

    report = desk.report()

    long = _link(report, LONG)
    assert (long["human_clicks"], long["clicked_then_came_back"]) == (3, 0.667)
    assert long["flags"] == ["did_not_help"]
    good = _link(report, GOOD)
    assert (good["messages"], good["human_clicks"], good["clicked_then_came_back"]) == (5, 2, 0.0)
    assert good["flags"] == []
    assert [link["url"] for link in report["content"]] == [GOOD, LONG]  # most sent first


def test_one_person_coming_back_does_not_flag_an_article(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("one", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z")
    sent = desk.send("one", "2026-11-02T10:00:00Z", [LONG])
    desk.clicked(sent, "2026-11-02T11:00:00Z")
    desk.replied(sent, "2026-11-02T12:00:00Z")

    link = _link(desk.report(), LONG)

    assert link["clicked_then_came_back"] == 1.0
    assert link["flags"] == []  # THRESHOLDS.did_not_help_min_tickets
    assert THRESHOLDS.did_not_help_min_tickets == 2


def test_links_to_files_are_downloads_and_machines_never_count(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("invoice", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z")
    sent = desk.send("invoice", "2026-11-02T10:00:00Z", [PDF])
    desk.clicked(sent, "2026-11-02T10:00:01Z", verdict=Verdict.MACHINE, agent=Agent.PROOFPOINT)
    desk.clicked(sent, "2026-11-02T10:00:30Z", verdict=Verdict.UNKNOWN, agent=None)
    desk.opened(sent, "2026-11-02T10:00:05Z", verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP)

    report = desk.report()

    link = _link(report, PDF)
    assert link["download"] is True
    assert (link["human_opens"], link["human_clicks"], link["click_through"]) == (0, 0, None)
    assert link["clicked_then_came_back"] is None
    assert report["by_engagement"]["no_signal"]["tickets_solved"] == 1
    assert is_download("https://x.example/a/photo.jpeg?size=2") is True
    assert is_download("https://x.example/articles/v2.0") is False
    assert is_download("https://x.example/") is False


def test_subject_lines_people_do_not_open(store: Store) -> None:
    desk = Desk(store)
    for n in range(6):
        desk.ticket(f"{n}", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z")
        # one template, whatever the ticket marker and the reply prefix say
        survey = desk.send(f"{n}", "2026-11-02T10:00:00Z", subject=f"Re: How did we do? [#{n}]")
        if n == 0:
            desk.opened(survey, "2026-11-02T11:00:00Z")
        desk.opened(survey, "2026-11-02T10:00:03Z", verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP)
        answer = desk.send(f"{n}", "2026-11-02T10:00:00Z", subject="Your refund")
        if n < 3:
            desk.opened(answer, "2026-11-02T12:00:00Z")
        # sent without a pixel: nobody could be seen opening it
        desk.send(f"{n}", "2026-11-02T10:00:00Z", subject="Card details", tracking="clicks")

    subjects = desk.report()["subjects"]

    assert subjects == [
        {
            "subject": "How did we do?",
            "messages": 6,
            "human_open_rate": 0.167,
            "flags": ["not_opened"],
            "raw_opens": 6,
            "raw_clicks": 0,
        },
        {
            "subject": "Your refund",
            "messages": 6,
            "human_open_rate": 0.5,
            "flags": [],
            "raw_opens": 3,
            "raw_clicks": 0,
        },
    ]


def test_opens_by_agent_name_every_open_by_verdict_and_agent(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("4123", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z")
    sent = desk.send("4123", "2026-11-02T10:00:00Z")
    desk.opened(sent, "2026-11-02T10:00:02Z", verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP)
    desk.opened(sent, "2026-11-02T10:00:03Z", verdict=Verdict.MACHINE, agent=Agent.SAFELINKS)
    desk.opened(sent, "2026-11-02T11:00:00Z", agent=Agent.GMAIL_PROXY)  # a person, via Gmail
    desk.opened(sent, "2026-11-02T12:00:00Z")
    desk.opened(sent, "2026-11-02T12:30:00Z", verdict=Verdict.UNKNOWN, agent=None)
    desk.opened(sent, "2026-11-02T12:40:00Z", verdict=Verdict.MACHINE, agent=None)

    opens = desk.report()["signals"]["opens_by_agent"]

    assert {k: v for k, v in opens.items() if v} == {
        "person": 2,
        "apple_mpp": 1,
        "scanner": 1,
        "script": 1,
        "unknown": 1,
    }
    assert set(opens) >= {"person", "apple_mpp", "gmail_proxy", "scanner", "unknown"}
    assert bucket("unknown", "gmail_proxy") == "gmail_proxy"


def test_an_event_a_day_before_its_copy_was_sent_is_not_counted(store: Store) -> None:
    """The reports read events from a day before the earliest copy's sending on (on
    PostgreSQL that keeps them to their period's months): an open a few hours "before"
    (another clock) counts, one from two days before is not this copy's."""
    desk = Desk(store)
    desk.ticket("early", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z", requester="a@x.ex")
    skewed = desk.send("early", "2026-11-02T10:00:00Z", [GOOD])
    desk.opened(skewed, "2026-11-02T07:00:00Z")  # three hours before, by the node's clock
    desk.ticket("stray", "2026-11-02T09:00:00Z", "2026-11-05T09:00:00Z", requester="b@x.ex")
    stray = desk.send("stray", "2026-11-04T10:00:00Z", [GOOD])
    desk.opened(stray, "2026-10-31T10:00:00Z")  # before the earliest copy less a day

    link = _link(desk.report(), GOOD)

    assert (link["messages"], link["human_opens"], link["raw_opens"]) == (2, 1, 1)
