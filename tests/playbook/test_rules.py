"""The playbook's rules and the queue's order, on each backend.

Each test is a ticket's story told to the store (a ticket, the team's message, what came
back, each event with the verdict the classifier gave it) and the queue read at chosen
times, as a support lead would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from inkling.model import (
    Agent,
    Event,
    EventKind,
    InklingId,
    MessageIdHeader,
    MessageRecord,
    Verdict,
    new_event_id,
)
from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.queue import QueueItem, build_queue
from inkling.playbook.teams import Team, TeamBook, Thresholds
from inkling.store import Store
from inkling.tickets.upsert import parse_ticket
from inkling.times import parse_time
from inkling.tokens import new_message_id

HOUR = 3600.0


def t(text: str) -> float:
    return parse_time(text, "test")


@dataclass
class Story:
    store: Store
    ticket: str = "4123"
    copies: list[MessageRecord] = field(default_factory=list)

    def open_ticket(self, created: str, priority: str = "normal", team: str | None = None) -> None:
        body = {"id": self.ticket, "priority": priority, "status": "open", "created_at": created}
        if team is not None:
            body["team"] = team
        self.store.tickets.upsert(parse_ticket(body))

    def send(
        self,
        when: str,
        *recipients: str,
        message_id: str = "<a1@help.example>",
        tracking: str = "full",
        untracked: str | None = None,
    ) -> None:
        sent = int(t(when))
        self.copies = [
            MessageRecord(
                new_message_id(),
                MessageIdHeader(message_id),
                None,
                self.ticket,
                "Your refund",
                sent,
                1,
                recipient=r,
                untracked=untracked,
                tracking=tracking,
            )
            for r in recipients or ("ana@customer.example",)
        ]
        self.store.messages.register_all(
            [(c, ["https://help.example/refunds"]) for c in self.copies]
        )

    def hit(
        self,
        when: str,
        kind: EventKind,
        verdict: Verdict,
        agent: Agent | None = None,
        *,
        copy: int = 0,
        details: dict[str, str] | None = None,
        **more: str,
    ) -> None:
        event = Event(new_event_id(), InklingId(self.copies[copy].id), kind, t(when))
        event.verdict, event.agent, event.details = verdict, agent, (details or {}) | more
        self.store.events.insert([event])

    def queue(
        self, at: str, teams: TeamBook | None = None, *, include_all: bool = False
    ) -> list[QueueItem]:
        return build_queue(self.store, teams or TeamBook(), at=t(at), include_all=include_all)

    def action(self, at: str, teams: TeamBook | None = None) -> tuple[str, str | None, bool]:
        (item,) = self.queue(at, teams, include_all=True)
        data = item.as_json()
        return data["action"], data["due"], data["due_now"]


@pytest.fixture
def story(store: Store) -> Story:
    return Story(store)


BERLIN = TeamBook({"billing": Team("billing", BusinessCalendar("Europe/Berlin", holidays="DE"))})


def test_a_click_holds_the_nudge_for_four_business_hours_then_check_in(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z")  # a Monday
    story.send("2026-12-07T10:00:00Z")
    story.hit("2026-12-07T10:05:00Z", EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT)
    story.hit("2026-12-07T11:00:00Z", EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT)
    story.hit("2026-12-07T15:00:00Z", EventKind.CLICK, Verdict.HUMAN, Agent.BROWSER)
    # 15:00 + 4 business hours = 2 today (to 17:00) + 2 tomorrow = Tuesday 11:00
    assert story.action("2026-12-07T15:01:00Z") == ("hold", "2026-12-08T11:00:00Z", False)
    assert story.action("2026-12-08T10:59:59Z") == ("hold", "2026-12-08T11:00:00Z", False)
    assert story.action("2026-12-08T11:00:00Z") == ("check_in", "2026-12-08T11:00:00Z", True)
    # three business days after the click (Thursday 15:00) with no contact
    assert story.action("2026-12-10T15:00:00Z") == (
        "resolved_quietly",
        "2026-12-10T15:00:00Z",
        True,
    )


def test_an_urgent_ticket_only_apples_proxy_fetched_escalates_one_business_day_later(
    story: Story,
) -> None:
    # Friday 22 May 2026, 15:00 in Berlin; Monday 25 May is Whit Monday, a holiday in DE:
    # 2 business hours on Friday, none over the weekend and the holiday, 6 on Tuesday
    story.open_ticket("2026-05-22T14:00:00+02:00", priority="urgent", team="billing")
    story.send("2026-05-22T15:00:00+02:00")
    story.hit("2026-05-22T15:00:30+02:00", EventKind.OPEN, Verdict.MACHINE, Agent.APPLE_MPP)
    due = "2026-05-26T13:00:00Z"
    assert story.action("2026-05-26T14:59:00+02:00", BERLIN) == ("escalate", due, False)
    assert story.action("2026-05-26T15:00:00+02:00", BERLIN) == ("escalate", due, True)
    (item,) = story.queue("2026-05-26T15:00:00+02:00", BERLIN)
    assert item.as_json()["state"] == "machine_only"
    assert "Apple's proxy fetched the images" in item.recommendation.reason
    assert item.recommendation.reason.startswith(
        "Urgent, and no sign of a person for 1 business day"
    )


@pytest.mark.parametrize(
    ("tracking", "untracked", "said"),
    [
        ("none", "opt_out", "it went out untracked (opt_out), so silence says nothing"),
        ("clicks", "policy", "nothing was clicked (it has no pixel, so opens are not seen)"),
    ],
)
def test_silence_on_untracked_mail_says_so(
    story: Story, tracking: str, untracked: str, said: str
) -> None:
    story.open_ticket("2026-12-07T09:00:00Z")
    story.send("2026-12-07T10:00:00Z", tracking=tracking, untracked=untracked)
    (item,) = story.queue("2026-12-09T10:00:00Z")
    assert item.recommendation.action == "nudge"
    assert said in item.recommendation.reason


def test_three_occasions_without_a_click_is_simplify(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z")
    story.send("2026-12-07T10:00:00Z")
    for when in ("2026-12-07T10:05:00Z", "2026-12-07T10:06:00Z", "2026-12-07T13:00:00Z"):
        story.hit(when, EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT)
    # two occasions so far (10:05 and 10:06 are one): check in two business days after
    assert story.action("2026-12-07T14:00:00Z") == ("check_in", "2026-12-09T13:00:00Z", False)
    story.hit("2026-12-08T09:30:00Z", EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT)
    assert story.action("2026-12-08T10:00:00Z") == ("simplify", "2026-12-08T09:30:00Z", True)


def test_machines_and_unknowns_are_no_sign_of_a_person(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z", priority="low")
    story.send("2026-12-07T10:00:00Z")
    story.hit("2026-12-07T10:00:05Z", EventKind.CLICK, Verdict.MACHINE, Agent.SAFELINKS)
    story.hit("2026-12-07T12:00:00Z", EventKind.OPEN, Verdict.UNKNOWN, Agent.MAIL_CLIENT)
    assert story.action("2026-12-09T09:59:00Z") == ("nudge", "2026-12-09T10:00:00Z", False)
    (item,) = story.queue("2026-12-09T10:00:00Z")
    assert item.as_json()["state"] == "machine_only" and item.due_now
    assert "could be a person or a machine" in item.recommendation.reason


def test_bounces_say_who_must_act(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z")
    story.send("2026-12-07T10:00:00Z")
    story.hit(
        "2026-12-07T10:01:00Z", EventKind.BOUNCE, Verdict.MACHINE, Agent.BOUNCE, final="false"
    )
    assert story.action("2026-12-07T11:00:00Z")[0] == "nudge"  # a delay: the mail still tries
    story.hit(
        "2026-12-07T12:00:00Z",
        EventKind.BOUNCE,
        Verdict.MACHINE,
        Agent.BOUNCE,
        final="true",
        owner="sender",
        reason="authfailure",
        status="5.7.26",
        details={"class": "soft"},
    )
    assert story.action("2026-12-07T12:30:00Z") == ("check_sending", "2026-12-07T12:00:00Z", True)
    story.hit(
        "2026-12-07T13:00:00Z",
        EventKind.BOUNCE,
        Verdict.MACHINE,
        Agent.BOUNCE,
        final="true",
        owner="customer",
        reason="mailboxfull",
        status="5.2.2",
        details={"class": "soft"},
    )
    assert story.action("2026-12-07T13:30:00Z")[0] == "other_channel"
    story.hit(
        "2026-12-07T14:00:00Z",
        EventKind.BOUNCE,
        Verdict.MACHINE,
        Agent.BOUNCE,
        final="true",
        owner="agent",
        reason="userunknown",
        status="5.1.1",
        details={"class": "hard"},
    )
    assert story.action("2026-12-07T14:30:00Z")[0] == "fix_address"


def test_out_of_office_waits_until_the_first_working_hour_back(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z", priority="urgent")
    story.send("2026-12-07T10:00:00Z")
    story.hit(
        "2026-12-07T10:00:10Z",
        EventKind.AUTOREPLY,
        Verdict.MACHINE,
        Agent.AUTOREPLY,
        until="2026-12-12",
    )
    # back on a Saturday: the team's first working hour is Monday 09:00
    assert story.action("2026-12-08T10:00:00Z") == ("wait_until", "2026-12-14T09:00:00Z", False)
    (item,) = story.queue("2026-12-08T10:00:00Z")
    assert item.as_json()["state"] == "away"
    # once the date has come, the rules go on as if there were no auto-reply
    assert story.action("2026-12-14T10:00:00Z")[0] == "escalate"


def test_a_reply_hands_the_ball_to_the_helpdesk(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z")
    story.send("2026-12-07T10:00:00Z")
    story.hit("2026-12-07T11:00:00Z", EventKind.CLICK, Verdict.HUMAN, Agent.BROWSER)
    story.hit("2026-12-07T12:00:00Z", EventKind.REPLY, Verdict.HUMAN, Agent.REPLY)
    assert story.action("2026-12-07T13:00:00Z") == ("none", None, False)
    assert story.queue("2026-12-07T13:00:00Z") == []  # left out unless --all
    # the queue as it stood before the reply
    assert story.action("2026-12-07T11:30:00Z")[0] == "hold"


def test_a_cc_colleague_opening_counts_for_the_message(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z", priority="high")
    story.send("2026-12-07T10:00:00Z", "ana@customer.example", "boss@customer.example")
    story.hit("2026-12-07T10:30:00Z", EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT, copy=1)
    assert story.action("2026-12-07T11:00:00Z")[0] == "check_in"


def test_the_latest_message_decides_and_later_sends_are_left_out_of_the_past(
    story: Story,
) -> None:
    story.open_ticket("2026-12-07T09:00:00Z")
    story.send("2026-12-07T10:00:00Z", message_id="<first@help.example>")
    story.hit("2026-12-07T10:30:00Z", EventKind.CLICK, Verdict.HUMAN, Agent.BROWSER)
    story.send("2026-12-08T10:00:00Z", message_id="<second@help.example>")
    (now,) = story.queue("2026-12-08T11:00:00Z")
    assert (now.message, now.recommendation.action.value) == ("<second@help.example>", "nudge")
    (before,) = story.queue("2026-12-07T11:00:00Z")
    assert (before.message, before.recommendation.action.value) == ("<first@help.example>", "hold")
    assert story.queue("2026-12-07T08:00:00Z") == []  # the ticket did not exist yet


def test_queue_order_due_first_then_urgent_then_earliest(store: Store) -> None:
    stories = []
    for ident, priority, sent in (
        ("low-old", "low", "2026-12-01T10:00:00Z"),
        ("urgent-new", "urgent", "2026-12-09T10:00:00Z"),
        ("urgent-old", "urgent", "2026-12-07T10:00:00Z"),
        ("normal-old", "normal", "2026-12-02T10:00:00Z"),
        ("normal-new", "normal", "2026-12-09T11:00:00Z"),
    ):
        s = Story(store, ticket=ident)
        s.open_ticket("2026-12-01T09:00:00Z", priority=priority)
        s.send(sent, message_id=f"<{ident}@help.example>")
        stories.append(s)
    items = stories[0].queue("2026-12-09T12:00:00Z")
    assert [(i.ticket.id, i.due_now) for i in items] == [
        ("urgent-old", True),
        ("normal-old", True),
        ("low-old", True),
        ("urgent-new", False),
        ("normal-new", False),
    ]


def test_team_thresholds_and_clock(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z", team="night")
    story.send("2026-12-07T10:00:00Z")
    clock = BusinessCalendar(
        "UTC", workdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], hours="00:00-24:00"
    )
    teams = TeamBook({"night": Team("night", clock, Thresholds(nudge_after_days=0.5))})
    assert story.action("2026-12-07T10:00:00Z", teams) == ("nudge", "2026-12-07T22:00:00Z", False)
    assert story.action("2026-12-07T10:00:00Z")[1] == "2026-12-09T10:00:00Z"  # default team


def test_solved_tickets_leave_the_queue(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z")
    story.send("2026-12-07T10:00:00Z")
    assert len(story.queue("2026-12-10T10:00:00Z")) == 1
    story.store.tickets.upsert(
        parse_ticket({"id": story.ticket, "status": "solved", "updated_at": "2026-12-08T10:00:00Z"})
    )
    assert story.queue("2026-12-10T10:00:00Z", include_all=True) == []


def test_a_message_the_ticket_names_counts_as_its_latest(store: Store) -> None:
    story = Story(store, ticket="")  # the message carries no ticket of its own
    story.send("2026-12-07T10:00:00Z", message_id="<named@help.example>")
    body = {
        "id": "4123",
        "created_at": "2026-12-07T09:00:00Z",
        "message_ids": ["<named@help.example>"],
    }
    store.tickets.upsert(parse_ticket(body))
    (item,) = build_queue(store, TeamBook(), at=t("2026-12-07T11:00:00Z"))
    assert (item.ticket.id, item.message) == ("4123", "<named@help.example>")


def test_a_reply_to_an_earlier_message_after_the_latest_one_counts(story: Story) -> None:
    story.open_ticket("2026-12-07T09:00:00Z", priority="urgent")
    story.send("2026-12-07T10:00:00Z", message_id="<first@help.example>")
    first = story.copies
    story.hit("2026-12-07T10:30:00Z", EventKind.REPLY, Verdict.HUMAN, Agent.REPLY)
    story.send("2026-12-07T11:00:00Z", message_id="<second@help.example>")
    # the reply came before the second message: the team has answered it, the rules go on
    assert story.action("2026-12-08T12:00:00Z")[0] == "escalate"
    story.copies = first  # the customer answers the first message again, after the second
    story.hit("2026-12-08T13:00:00Z", EventKind.REPLY, Verdict.HUMAN, Agent.REPLY)
    (item,) = story.queue("2026-12-08T14:00:00Z", include_all=True)
    assert (item.message, item.as_json()["action"], item.as_json()["state"]) == (
        "<second@help.example>",
        "none",
        "replied",
    )


def test_business_time_never_reads_zero_minutes() -> None:
    from inkling.playbook.rules import business_words

    assert business_words(0.0, 8.0) == "under a business minute"
    assert business_words(1 / 60, 8.0) == "1 business minute"
    assert business_words(8.0, 8.0) == "1 business day"


def test_events_from_before_the_message_was_sent_are_not_its_signals(story: Story) -> None:
    """A person's open stamped two days before the message went out (a wrong clock, a
    misfiled import) is no sign on it; one an hour "before" (clocks differ) still is."""
    story.open_ticket("2026-12-07T09:00:00Z")
    story.send("2026-12-09T10:00:00Z")
    story.hit("2026-12-07T10:00:00Z", EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT)
    story.hit("2026-12-07T10:01:00Z", EventKind.OPEN, Verdict.MACHINE, Agent.APPLE_MPP)
    (item,) = story.queue("2026-12-09T11:00:00Z", include_all=True)
    assert item.as_json()["state"] == "not_opened"
    story.hit("2026-12-09T09:00:00Z", EventKind.OPEN, Verdict.HUMAN, Agent.MAIL_CLIENT)
    (item,) = story.queue("2026-12-09T11:00:00Z", include_all=True)
    assert item.as_json()["state"] == "opened"
