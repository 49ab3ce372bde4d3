"""The outcome figures on hand-built stories with known answers, on each backend: first
contact resolution, time to resolution in business hours, repeat contacts, self-service
completion, the engagement split, and what is left out (machines, unsolved tickets,
other teams, other periods)."""

from __future__ import annotations

import dataclasses

from inkling.model import Agent, InklingId, Verdict
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.teams import Team, TeamBook
from inkling.store import Store
from tests.reports.stories import DAY, HELP, Desk, t

ARTICLE = HELP + "reset-password"
OTHER = "https://shop.example.com/orders"


def test_first_contact_resolution_is_one_message_and_no_reply_after_it(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("one", "2026-11-02T09:00:00Z", "2026-11-02T12:00:00Z")
    desk.send("one", "2026-11-02T10:00:00Z")
    desk.ticket("two", "2026-11-02T09:00:00Z", "2026-11-03T12:00:00Z")
    desk.send("two", "2026-11-02T10:00:00Z")
    desk.send("two", "2026-11-03T10:00:00Z")
    desk.ticket("replied", "2026-11-02T09:00:00Z", "2026-11-03T12:00:00Z")
    first = desk.send("replied", "2026-11-02T10:00:00Z")
    desk.replied(first, "2026-11-02T15:00:00Z")  # "that did not work"
    desk.ticket("silent", "2026-11-02T09:00:00Z", "2026-11-02T12:00:00Z")  # nothing sent

    report = desk.report()

    assert report["tickets_solved"] == 4
    assert report["fcr"] == 0.25  # only "one"


def test_a_reply_after_the_last_of_two_messages_and_copies_of_one_message(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("two", "2026-11-02T09:00:00Z", "2026-11-04T12:00:00Z")
    desk.send("two", "2026-11-02T10:00:00Z")
    second = desk.send("two", "2026-11-03T10:00:00Z")
    desk.replied(second, "2026-11-03T11:00:00Z")
    # One message to two people: two copies of one Message-ID, one outbound message.
    desk.ticket("shared", "2026-11-02T09:00:00Z", "2026-11-02T12:00:00Z")
    sent = desk.send("shared", "2026-11-02T10:00:00Z")
    other = dataclasses.replace(
        sent.copy, id=InklingId(sent.copy.id[::-1]), recipient="bo@customer.example"
    )
    store.messages.register(other, [])
    # Named by the ticket's Message-IDs rather than by its id: still its message.
    desk.ticket("named", "2026-11-05T09:00:00Z", "2026-11-05T12:00:00Z")
    loose = desk.send("", "2026-11-05T10:00:00Z")
    store.tickets.upsert(
        dataclasses.replace(store.tickets.get("named"), message_ids=(loose.copy.message_id,))
    )
    desk.replied(loose, "2026-11-05T11:00:00Z")

    report = desk.report()

    assert report["tickets_solved"] == 3
    assert report["fcr"] == 0.333  # "shared" alone: "two" had two, "named" a reply


def test_time_to_resolution_runs_on_the_team_clock_across_a_weekend_and_a_holiday(
    store: Store,
) -> None:
    berlin = BusinessCalendar(timezone="Europe/Berlin", hours="09:00-17:00", holidays="DE")
    teams = TeamBook({"billing": Team("billing", berlin)})
    desk = Desk(store)
    # Friday 16:00 in Berlin to Monday 10:00: an hour on Friday, an hour on Monday.
    desk.ticket("weekend", "2026-12-18T15:00:00Z", "2026-12-21T09:00:00Z", team="billing")
    # Thursday 24 December 16:00 to Monday 28th 11:00: Christmas Day (Friday) is a
    # holiday in Germany, then the weekend: 1 + 2 hours.
    desk.ticket("christmas", "2026-12-24T15:00:00Z", "2026-12-28T10:00:00Z", team="billing")
    # No team, and a team nobody configured: the default clock (UTC, 09:00-17:00).
    desk.ticket("plain", "2026-12-18T16:00:00Z", "2026-12-21T10:00:00Z")
    desk.ticket("unknown", "2026-12-18T16:00:00Z", "2026-12-21T13:00:00Z", team="nobody")

    report = desk.report(teams, since="2026-12-01T00:00:00Z", until="2027-01-01T00:00:00Z")

    # 2 (weekend), 3 (christmas), 2 (plain: 16-17 Friday, 9-10 Monday), 5 (unknown: 1 + 4)
    assert report["tickets_solved"] == 4
    assert report["ttr_business_hours"] == {"median": 2.5, "p90": 4.4}
    billing = desk.report(
        teams, team="billing", since="2026-12-01T00:00:00Z", until="2027-01-01T00:00:00Z"
    )
    assert billing["ttr_business_hours"] == {"median": 2.5, "p90": 2.9}


def test_repeat_contact_is_another_ticket_within_7_days_after_solving(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("ana-1", "2026-11-09T09:00:00Z", "2026-11-10T12:00:00Z", requester="ana@x.example")
    desk.ticket("ana-2", "2026-11-16T12:00:00Z", requester="ana@x.example")  # 6 days later
    desk.ticket("bo-1", "2026-11-09T09:00:00Z", "2026-11-10T12:00:00Z", requester="bo@x.example")
    desk.ticket("bo-2", "2026-11-18T12:00:00Z", requester="bo@x.example")  # 8 days later
    desk.ticket("cy-0", "2026-11-08T09:00:00Z", requester="cy@x.example")  # before: not again
    desk.ticket("cy-1", "2026-11-09T09:00:00Z", "2026-11-10T12:00:00Z", requester="cy@x.example")
    desk.ticket("nobody", "2026-11-09T09:00:00Z", "2026-11-10T12:00:00Z", requester=None)

    report = desk.report()

    assert report["tickets_solved"] == 4  # the open ones are not solved
    assert report["repeat_contact_rate"] == 0.25  # ana-1 alone


def test_self_service_completion_is_a_click_and_nobody_back_within_7_days(
    store: Store,
) -> None:
    desk = Desk(store)
    stories = {
        "served": [],
        "replied": ["reply 2"],
        "new-ticket": ["ticket 3"],
        "late-reply": ["reply 8"],
        "not-clicked": None,
    }
    for n, (name, after) in enumerate(stories.items()):
        requester = f"c{n}@x.example"
        desk.ticket(name, "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z", requester=requester)
        sent = desk.send(name, "2026-11-02T10:00:00Z", [OTHER, ARTICLE])
        if after is None:
            desk.opened(sent, "2026-11-02T11:00:00Z")
            continue
        click = t("2026-11-02T11:00:00Z")
        desk.clicked(sent, click, link=1)
        desk.clicked(sent, click + 4 * DAY, link=1)  # again later: the first click counts
        for what in after:
            kind, days = what.split()
            when = click + int(days) * DAY
            if kind == "reply":
                desk.replied(sent, when)
            else:
                desk.ticket(f"{name}-again", when, requester=requester)
    # A ticket whose mail carried no article: not in the denominator, whatever was clicked.
    desk.ticket("no-article", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z")
    desk.clicked(desk.send("no-article", "2026-11-02T10:00:00Z", [OTHER]), "2026-11-02T11:00Z")
    # Only a scanner clicked the article: no person did.
    desk.ticket("scanned", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z", requester="s@x.example")
    scanned = desk.send("scanned", "2026-11-02T10:00:00Z", [ARTICLE])
    desk.clicked(scanned, "2026-11-02T10:00:02Z", verdict=Verdict.MACHINE, agent=Agent.SAFELINKS)

    report = desk.report()

    # served and late-reply, of the six whose mail carried the article
    assert report["self_service_completion"] == 0.333
    assert desk.report(help_center=())["self_service_completion"] is None  # no articles
    assert (
        desk.report(help_center=("https://help.example.com/",))["self_service_completion"] == 0.333
    )  # a shorter prefix finds the same articles


def test_engagement_splits_every_figure_and_only_people_count(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("clicked", "2026-11-02T09:00:00Z", "2026-11-02T13:00:00Z")
    clicked = desk.send("clicked", "2026-11-02T10:00:00Z", [ARTICLE])
    desk.clicked(clicked, "2026-11-02T11:00:00Z")
    desk.ticket("opened", "2026-11-02T09:00:00Z", "2026-11-02T15:00:00Z")
    opened = desk.send("opened", "2026-11-02T10:00:00Z", [ARTICLE])
    desk.opened(opened, "2026-11-02T11:00:00Z")
    desk.opened(opened, "2026-11-02T12:00:00Z", verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP)
    desk.ticket("machines", "2026-11-02T09:00:00Z", "2026-11-02T17:00:00Z")
    machines = desk.send("machines", "2026-11-02T10:00:00Z", [ARTICLE])
    desk.send("machines", "2026-11-02T11:00:00Z")
    desk.opened(machines, "2026-11-02T10:00:05Z", verdict=Verdict.MACHINE, agent=Agent.APPLE_MPP)
    desk.clicked(machines, "2026-11-02T10:00:02Z", verdict=Verdict.MACHINE, agent=Agent.SCANNER)
    desk.opened(machines, "2026-11-02T10:30:00Z", verdict=Verdict.UNKNOWN, agent=None)

    report = desk.report()
    split = report["by_engagement"]

    assert [split[e]["tickets_solved"] for e in ("clicked", "opened", "no_signal")] == [1, 1, 1]
    assert split["clicked"] == {
        "tickets_solved": 1,
        "fcr": 1.0,
        "ttr_business_hours": {"median": 4.0, "p90": 4.0},
        "repeat_contact_rate": 0.0,
        "self_service_completion": 1.0,
    }
    assert split["opened"]["ttr_business_hours"]["median"] == 6.0
    assert split["opened"]["self_service_completion"] == 0.0
    assert split["no_signal"]["fcr"] == 0.0  # two messages
    assert split["no_signal"]["self_service_completion"] == 0.0  # the scanner's click
    assert report["fcr"] == 0.667
    assert report["signals"]["opens_by_agent"]["person"] == 1
    assert report["signals"]["opens_by_agent"]["apple_mpp"] == 2
    assert report["signals"]["opens_by_agent"]["unknown"] == 1


def test_unsolved_other_periods_and_other_teams_are_left_out(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("open", "2026-11-02T09:00:00Z")
    desk.ticket("pending", "2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z", status="pending")
    desk.ticket("october", "2026-10-02T09:00:00Z", "2026-10-31T23:59:59Z")
    desk.ticket("december", "2026-11-30T09:00:00Z", "2026-12-01T00:00:00Z")  # until: excluded
    for name in ("open", "pending", "october", "december"):
        sent = desk.send(name, "2026-11-02T10:00:00Z", [ARTICLE], subject="Left out")
        desk.clicked(sent, "2026-11-02T11:00:00Z")
    desk.ticket("billing", "2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z", team="billing")
    desk.ticket("support", "2026-11-02T09:00:00Z", "2026-11-02T12:00:00Z", team="support")
    desk.ticket("closed", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", status="closed")

    report = desk.report()

    assert report["tickets_solved"] == 3  # billing, support, closed (since is included)
    assert report["content"] == [] and report["subjects"] == []
    assert report["self_service_completion"] is None
    billing = desk.report(team="billing")
    assert (billing["team"], billing["tickets_solved"]) == ("billing", 1)
    assert billing["ttr_business_hours"] == {"median": 1.0, "p90": 1.0}
    assert desk.report(team="nobody")["tickets_solved"] == 0


def test_no_ticket_solved_gives_nulls_not_zeros(store: Store) -> None:
    report = Desk(store).report()
    assert report["tickets_solved"] == 0
    assert report["fcr"] is None and report["repeat_contact_rate"] is None
    assert report["ttr_business_hours"] == {"median": None, "p90": None}
    assert report["by_engagement"]["clicked"]["fcr"] is None
    assert report["signals"]["opens_by_agent"]["person"] == 0


def test_the_report_has_the_contract_shape(store: Store) -> None:
    desk = Desk(store)
    desk.ticket("4123", "2026-11-02T09:00:00Z", "2026-11-02T12:00:00Z")
    sent = desk.send("4123", "2026-11-02T10:00:00Z", [ARTICLE], subject="Re: Reset [#4123]")
    desk.opened(sent, "2026-11-02T11:00:00Z")

    report = desk.report()

    assert list(report) == [
        "since",
        "until",
        "team",
        "tickets_solved",
        "fcr",
        "ttr_business_hours",
        "repeat_contact_rate",
        "self_service_completion",
        "by_engagement",
        "content",
        "subjects",
        "signals",
    ]
    assert (report["since"], report["until"], report["team"]) == (
        "2026-11-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
        None,
    )
    assert list(report["by_engagement"]) == ["clicked", "opened", "no_signal"]
    assert list(report["content"][0]) == [
        "url",
        "messages",
        "human_opens",
        "human_clicks",
        "click_through",
        "clicked_then_came_back",
        "download",
        "flags",
        "raw_opens",
        "raw_clicks",
    ]
    assert report["subjects"] == [
        {
            "subject": "Reset",
            "messages": 1,
            "human_open_rate": 1.0,
            "flags": [],
            "raw_opens": 1,
            "raw_clicks": 0,
        }
    ]
    assert list(report["signals"]) == ["opens_by_agent"]
