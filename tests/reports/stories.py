"""Hand-built support stories for the report tests: tickets, the mail sent on them, and
what came back, each event with the verdict the classifier would have given it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
from inkling.playbook.teams import TeamBook
from inkling.reports import build_report, period
from inkling.store import Store
from inkling.tickets.upsert import parse_ticket
from inkling.times import parse_time
from inkling.tokens import new_message_id

HOUR = 3600.0
DAY = 86_400.0
HELP = "https://help.example.com/articles/"
#: The period every test reports on, and times inside it.
SINCE, UNTIL = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"


def t(text: str) -> float:
    return parse_time(text, "test")


@dataclass
class Sent:
    """One outbound message (one Message-ID, one copy)."""

    copy: MessageRecord
    links: list[str]


class Desk:
    """A helpdesk's month told to the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ticket(
        self,
        ident: str,
        created: str | float,
        solved: str | float | None = None,
        *,
        requester: str | None = "ana@customer.example",
        team: str | None = None,
        status: str | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "id": ident,
            "priority": "normal",
            "status": status or ("solved" if solved is not None else "open"),
            "created_at": created,
        }
        if solved is not None:
            body["solved_at"] = solved
            body["updated_at"] = solved
        if requester is not None:
            body["requester"] = requester
        if team is not None:
            body["team"] = team
        self.store.tickets.upsert(parse_ticket(body))

    def send(
        self,
        ticket: str,
        when: str | float,
        links: Sequence[str] = (),
        *,
        subject: str = "Your question",
        tracking: str = "full",
    ) -> Sent:
        ident = new_message_id()
        copy = MessageRecord(
            id=InklingId(ident),
            message_id=MessageIdHeader(f"<{ident}@help.example>"),
            workflow=None,
            ticket=ticket,
            subject=subject,
            sent_at=int(_epoch(when)),
            links_total=len(links),
            recipient="ana@customer.example",
            tracking=tracking,
        )
        self.store.messages.register(copy, list(links))
        return Sent(copy, list(links))

    def hit(
        self,
        sent: Sent,
        kind: EventKind,
        when: str | float,
        *,
        verdict: Verdict = Verdict.HUMAN,
        agent: Agent | None = None,
        link: int | None = None,
    ) -> None:
        if agent is None and verdict is Verdict.HUMAN:
            agent = Agent.BROWSER if kind is EventKind.CLICK else Agent.MAIL_CLIENT
        event = Event(
            id=new_event_id(),
            message=sent.copy.id,
            kind=kind,
            ts=_epoch(when),
            sent_at=sent.copy.sent_at,
            link=link if link is not None else (0 if kind is EventKind.CLICK else None),
            verdict=verdict,
            agent=agent,
        )
        self.store.events.insert([event])

    def opened(self, sent: Sent, when: str | float, **kw: Any) -> None:
        self.hit(sent, EventKind.OPEN, when, **kw)

    def clicked(self, sent: Sent, when: str | float, link: int = 0, **kw: Any) -> None:
        self.hit(sent, EventKind.CLICK, when, link=link, **kw)

    def replied(self, sent: Sent, when: str | float) -> None:
        event = Event(
            id=new_event_id(),
            message=sent.copy.id,
            kind=EventKind.REPLY,
            ts=_epoch(when),
            method="SMTP",
            sent_at=sent.copy.sent_at,
            verdict=Verdict.HUMAN,
            agent=Agent.REPLY,
        )
        self.store.events.insert([event])

    def report(
        self,
        teams: TeamBook | None = None,
        *,
        team: str | None = None,
        since: str = SINCE,
        until: str = UNTIL,
        help_center: Sequence[str] = (HELP,),
    ) -> dict[str, Any]:
        """The report's JSON, as ``inkling report --format json`` prints it."""
        made = build_report(
            self.store,
            teams or TeamBook(),
            period(since, until),
            team=team,
            help_center=help_center,
        )
        return made.as_json()


def _epoch(value: str | float) -> float:
    return t(value) if isinstance(value, str) else value
