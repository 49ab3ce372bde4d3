"""What the reports read: the tickets solved in a period and what happened on their mail.

Every query starts from the same two sets, written once as common table expressions:
``solved`` (the tickets whose status is solved or closed and whose ``solved_at``, or
``updated_at`` when the helpdesk gave none, falls in ``[since, until)``, maybe of one team)
and ``copies`` (every copy sent on them, by ``messages.ticket`` or by the ticket naming
its Message-ID). Each query then returns a row per ticket, message, link or group, never
a row per event: the definitions (``inkling.reports``) are computed from these rows in
Python, the counting of events is left to the database.

Only ``human`` opens and clicks are read (and every open, by verdict and agent, for the
signals section). A reply counts unless it was judged a machine's: the mail parser judges
every reply a person's, and a reply imported without a verdict is still a customer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inkling.store.engine import Database
from inkling.store.schema import SIGNALS_WHERE

#: (id, team, requester, created_at, solved_at)
TicketRow = tuple[str, str | None, str | None, float, float]
#: (ticket, message_id, sent_at, subject, fully tracked: 1 or 0)
MessageRow = tuple[str, str, int, str | None, int]
#: (ticket, message_id, url)
LinkRow = tuple[str, str, str]
#: (ticket, message_id): a person opened the message
OpenRow = tuple[str, str]
#: (ticket, message_id, url, first click by a person)
ClickRow = tuple[str, str, str, float]
#: (ticket, ts)
ReplyRow = tuple[str, float]
#: (requester, ticket id, created_at): every ticket of the solved tickets' requesters
RequesterRow = tuple[str, str, float]
#: (verdict, agent, opens)
AgentRow = tuple[str, str | None, int]


@dataclass(frozen=True, slots=True)
class ReportRows:
    """What happened on the tickets solved in a period, as the queries return it."""

    tickets: list[TicketRow]
    messages: list[MessageRow]
    links: list[LinkRow]
    opens: list[OpenRow]
    clicks: list[ClickRow]
    replies: list[ReplyRow]
    requesters: list[RequesterRow]
    opens_by_agent: list[AgentRow]


class Reports:
    """Reads the rows the metrics are computed from."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def rows(self, since: float, until: float, team: str | None = None) -> ReportRows:
        """The tickets solved in ``[since, until)`` (of ``team`` only, if given) and what
        happened on their mail, read on one connection."""
        params: tuple[Any, ...] = (since, until) if team is None else (since, until, team)
        with self._db.connect() as connection:
            raw = connection.connection.cursor()
            postgres = connection.dialect.name == "postgresql"
            prefix = _prefix(team is not None, "%s" if postgres else "?")

            def read(body: str) -> list[Any]:
                raw.execute(prefix + body, params)
                return list(raw.fetchall())

            try:
                return ReportRows(
                    tickets=read(_TICKETS),
                    messages=read(_MESSAGES),
                    links=read(_LINKS),
                    opens=read(_OPENS),
                    clicks=read(_CLICKS),
                    replies=read(_REPLIES),
                    requesters=read(_REQUESTERS),
                    opens_by_agent=read(_OPENS_BY_AGENT),
                )
            finally:
                raw.close()


# Every query below is written here in full; only marks (? or %s) are filled in.
_SOLVED_AT = "COALESCE(t.solved_at, t.updated_at)"
_SOLVED = (
    "solved AS (SELECT t.id, t.team, t.requester, t.created_at, "
    f"{_SOLVED_AT} AS solved_at FROM tickets t "
    f"WHERE t.status IN ('solved', 'closed') AND {_SOLVED_AT} >= {{mark}} "
    f"AND {_SOLVED_AT} < {{mark}}{{team}})"
)
_COPIES = (
    "copies AS ("
    "SELECT s.id AS ticket, m.id AS copy, m.message_id, m.sent_at, m.subject, m.tracking "
    "FROM solved s JOIN messages m ON m.ticket = s.id "
    "UNION "
    "SELECT s.id, m.id, m.message_id, m.sent_at, m.subject, m.tracking "
    "FROM solved s JOIN ticket_messages n ON n.ticket = s.id "
    "JOIN messages m ON m.message_id = n.message_id)"
)


def _prefix(by_team: bool, mark: str) -> str:
    """The ``WITH`` clause every query starts with."""
    team = " AND t.team = {mark}" if by_team else ""
    return f"WITH {_SOLVED}, {_COPIES} ".replace("{team}", team).format(mark=mark)


_TICKETS = "SELECT id, team, requester, created_at, solved_at FROM solved"
_MESSAGES = (
    "SELECT ticket, message_id, MIN(sent_at), MAX(subject), "
    "MAX(CASE WHEN tracking = 'full' THEN 1 ELSE 0 END) FROM copies "
    "GROUP BY ticket, message_id"
)
_LINKS = (
    "SELECT DISTINCT c.ticket, c.message_id, l.url FROM copies c JOIN links l ON l.message = c.copy"
)
# The condition of the partial index ix_events_signals, repeated so that SQLite sees the
# index serves the query (it proves only a term it finds written in the query).
_PEOPLE = f"e.verdict = 'human' AND ({SIGNALS_WHERE})"
_OPENS = (
    "SELECT DISTINCT c.ticket, c.message_id FROM copies c "
    f"JOIN events e ON e.message = c.copy WHERE e.kind = 'open' AND {_PEOPLE}"
)
_CLICKS = (
    "SELECT c.ticket, c.message_id, l.url, MIN(e.ts) FROM copies c "
    "JOIN events e ON e.message = c.copy "
    "JOIN links l ON l.message = e.message AND l.idx = e.link "
    f"WHERE e.kind = 'click' AND {_PEOPLE} GROUP BY c.ticket, c.message_id, l.url"
)
_REPLIES = (
    "SELECT c.ticket, e.ts FROM copies c JOIN events e ON e.message = c.copy "
    "WHERE e.kind = 'reply' AND e.verdict <> 'machine'"
)
_REQUESTERS = (
    "SELECT o.requester, o.id, o.created_at FROM tickets o "
    "WHERE o.requester IN (SELECT requester FROM solved)"
)
_OPENS_BY_AGENT = (
    "SELECT e.verdict, e.agent, COUNT(*) FROM events e "
    "WHERE e.kind = 'open' AND e.message IN (SELECT copy FROM copies) "
    "GROUP BY e.verdict, e.agent"
)
