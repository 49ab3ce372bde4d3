"""What each solved ticket's story says, once: the facts every definition is read from.

Built from the store's rows (``store/reports.py``): a ticket's outbound messages (one per
Message-ID, however many copies), its customer's replies, what people (only ``human``
verdicts) opened and clicked, whether its mail carried a help-article link, and when the
same requester opened other tickets. The definitions themselves (``outcomes.py``,
``content.py``) only count these facts.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from inkling.playbook.teams import TeamBook
from inkling.store.reports import ReportRows

#: "Within 7 days": calendar seconds, not business time (a customer's week).
WINDOW = 7 * 86_400.0
_NONE: list[float] = []
_NO_TICKETS: list[tuple[float, str]] = []


class Engagement(StrEnum):
    """What a person did with a ticket's outbound mail, the strongest sign first."""

    CLICKED = "clicked"
    OPENED = "opened"
    NO_SIGNAL = "no_signal"


@dataclass(frozen=True, slots=True)
class TicketFacts:
    id: str
    engagement: Engagement
    #: Exactly one outbound message and no customer reply after it.
    first_contact: bool
    #: Created to solved in business hours on the team's clock (None: a time the clock
    #: cannot place).
    ttr_hours: float | None
    #: The requester opened another ticket within 7 days after ``solved_at``.
    repeat_contact: bool
    #: Its mail carried a help-article link (self-service's denominator).
    help_link: bool
    #: A person clicked a help-article link and, within 7 days after the first such
    #: click, neither replied nor opened another ticket.
    self_served: bool


class Returns:
    """When customers came back: their replies per ticket and their tickets' creation
    times per requester, sorted, so that "within 7 days after t" is a binary search."""

    def __init__(self, rows: ReportRows) -> None:
        # The store returns both sorted (by ticket or requester, then time).
        self.replies: defaultdict[str, list[float]] = defaultdict(list)
        for ticket, ts in rows.replies:
            self.replies[ticket].append(ts)
        self._tickets: defaultdict[str, list[tuple[float, str]]] = defaultdict(list)
        for requester, ident, created in rows.requesters:
            self._tickets[requester].append((created, ident))

    def replied_within(self, ticket: str, start: float) -> bool:
        """A reply on the ticket in (start, start + 7 days]."""
        times = self.replies.get(ticket, _NONE)
        i = bisect.bisect_right(times, start)
        return i < len(times) and times[i] <= start + WINDOW

    def new_ticket_within(self, requester: str | None, ticket: str, start: float) -> bool:
        """Another ticket of ``requester`` created in (start, start + 7 days]."""
        found = self._tickets.get(requester or "", _NO_TICKETS)
        i = bisect.bisect_right(found, (start, "\U0010ffff"))
        while i < len(found) and found[i][0] <= start + WINDOW:
            if found[i][1] != ticket:
                return True
            i += 1
        return False

    def came_back(self, ticket: str, requester: str | None, start: float) -> bool:
        """Replied or opened another ticket within 7 days after ``start``."""
        return self.replied_within(ticket, start) or self.new_ticket_within(
            requester, ticket, start
        )


@dataclass(slots=True)
class _Mail:
    """A ticket's outbound mail, gathered from the rows."""

    messages: int = 0  # Message-IDs, however many copies each
    first_sent: int = 0
    opened: bool = False
    help_link: bool = False
    clicked: bool = False
    first_help_click: float | None = None


def ticket_facts(
    rows: ReportRows, teams: TeamBook, is_help: Callable[[str], bool], returns: Returns
) -> list[TicketFacts]:
    """The facts of every ticket in ``rows`` (``is_help`` tells a help-article URL)."""
    mail = _gather(rows, is_help)
    nothing = _Mail()
    facts = []
    for ident, team, requester, created, solved in rows.tickets:
        found = mail.get(ident, nothing)
        first_help = found.first_help_click
        facts.append(
            TicketFacts(
                id=ident,
                engagement=_engagement(found),
                first_contact=_first_contact(found, returns.replies.get(ident, _NONE)),
                ttr_hours=_business_hours(teams, team, created, solved),
                repeat_contact=returns.new_ticket_within(requester, ident, solved),
                help_link=found.help_link,
                self_served=first_help is not None
                and not returns.came_back(ident, requester, first_help),
            )
        )
    return facts


def _gather(rows: ReportRows, is_help: Callable[[str], bool]) -> dict[str, _Mail]:
    mail = {
        ticket: _Mail(messages, first_sent, bool(opened), bool(help_link))
        for ticket, messages, first_sent, opened, help_link in rows.mail
    }
    for ticket, _message_id, url, first in rows.clicks:
        found = mail.setdefault(ticket, _Mail())
        found.clicked = True
        if is_help(url) and (found.first_help_click is None or first < found.first_help_click):
            found.first_help_click = first
    return mail


def _engagement(mail: _Mail) -> Engagement:
    if mail.clicked:
        return Engagement.CLICKED
    return Engagement.OPENED if mail.opened else Engagement.NO_SIGNAL


def _first_contact(mail: _Mail, replies: list[float]) -> bool:
    """Exactly one outbound message, and no reply at or after its sending."""
    return mail.messages == 1 and (not replies or replies[-1] < mail.first_sent)


def _business_hours(teams: TeamBook, team: str | None, start: float, end: float) -> float | None:
    try:
        return teams.team(team).calendar.between(start, end) / 3600
    except ValueError:  # a time outside the years the clock knows
        return None


def help_matcher(prefixes: Iterable[str]) -> Callable[[str], bool]:
    """Whether a URL is a help article: it starts with one of ``prefixes``."""
    chosen = tuple(p for p in prefixes if p)
    cache: dict[str, bool] = {}

    def is_help(url: str) -> bool:
        known = cache.get(url)
        if known is None:
            known = cache[url] = bool(chosen) and url.startswith(chosen)
        return known

    return is_help
