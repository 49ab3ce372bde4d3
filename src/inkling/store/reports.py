"""What the reports read: the tickets solved in a period and what happened on their mail.

Two temporary tables are filled first, on the report's own connection: ``report_tickets``
(the tickets whose status is solved or closed and whose ``solved_at``, or ``updated_at``
when the helpdesk gave none, falls in ``[since, until)``, maybe of one team) and
``report_copies`` (every copy sent on them, by ``messages.ticket`` or by the ticket naming
its Message-ID, with the facts the parts asked for read of it, found once per copy:
whether a person opened it, whether anything did, whether a person or anything clicked
one of its links, whether it carried a help-article link; ``_MARKS`` says which part
reads which). Every query after that starts from the copies and reaches
their events through ``ix_events_report``, which holds every column they read, and
returns a row per ticket, per link or per group, never per event: the definitions
(``inkling.reports``) are computed from these rows in Python, the counting of events is
the database's.

Only ``human`` opens and clicks count in the figures; beside them, per link and per
subject line, the *raw* ones: the messages anything opened or clicked (Apple's proxy, a
scanner, a person), what a tracker that cannot tell them apart would show. Every open is
also read by verdict and agent, for the signals. A reply counts unless it was judged a
machine's: the mail parser judges every reply a person's, and a reply imported without a
verdict is still the customer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inkling.store.engine import Database
from inkling.store.schema import BEFORE_SENT

#: (id, team, requester, created_at, solved_at)
TicketRow = tuple[str, str | None, str | None, float, float]
#: (ticket, outbound messages, first sending, opened by a person: 1/0, carried a help
#: article: 1/0), for the tickets that had mail
MailRow = tuple[str, int, int, int, int]
#: (url, messages carrying it, of which opened by a person, of which opened by anything,
#: of which anything clicked it)
LinkRow = tuple[str, int, int, int, int]
#: (ticket, message_id, url, first click by a person)
ClickRow = tuple[str, str, str, float]
#: (ticket, ts), in that order
ReplyRow = tuple[str, float]
#: (requester, ticket id, created_at): the solved tickets' requesters' tickets since the
#: first of the solved tickets, in that order
RequesterRow = tuple[str, str, float]
#: (subject without the ticket's own "[#id]", messages tracked with a pixel, of which
#: opened by a person, opened by anything, clicked by a person, clicked by anything)
SubjectRow = tuple[str, int, int, int, int, int]
#: (verdict, agent, opens)
AgentRow = tuple[str, str | None, int]


#: What a report can be asked for: the outcomes (per ticket), the content (per link and
#: subject line), the signals (opens by agent). A page that shows one part reads only the
#: queries that part needs; the rows of the others stay empty.
OUTCOMES, CONTENT, SIGNALS = "outcomes", "content", "signals"
EVERY_PART = frozenset({OUTCOMES, CONTENT, SIGNALS})


@dataclass(frozen=True, slots=True)
class ReportRows:
    """What happened on the tickets solved in a period, as the queries return it."""

    tickets: list[TicketRow]
    mail: list[MailRow]
    links: list[LinkRow]
    clicks: list[ClickRow]
    replies: list[ReplyRow]
    requesters: list[RequesterRow]
    subjects: list[SubjectRow]
    opens_by_agent: list[AgentRow]


class Reports:
    """Reads the rows the metrics are computed from."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def rows(
        self,
        since: float,
        until: float,
        team: str | None = None,
        help_center: Sequence[str] = (),
        parts: frozenset[str] = EVERY_PART,
    ) -> ReportRows:
        """The tickets solved in ``[since, until)`` (of ``team`` only, if given) and what
        happened on their mail, for the ``parts`` asked for; a link is a help article when
        it starts with one of ``help_center``."""
        prefixes = [p for p in help_center if p]
        with self._db.begin() as connection:
            postgres = connection.dialect.name == "postgresql"
            cursor = connection.connection.cursor()
            try:
                return _read(_Cursor(cursor, postgres), since, until, team, prefixes, parts)
            finally:
                if not postgres:  # PostgreSQL drops them at commit
                    cursor.execute(_DROP_TICKETS)
                    cursor.execute(_DROP_COPIES)
                cursor.close()


class _Cursor:
    """The driver's cursor, with ``{mark}`` filled in as the driver wants it."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self.postgres = postgres
        self._mark = "%s" if postgres else "?"

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.format(mark=self._mark), tuple(params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self.run(sql, params)
        return list(self._cursor.fetchall())


def _read(
    cursor: _Cursor,
    since: float,
    until: float,
    team: str | None,
    prefixes: list[str],
    parts: frozenset[str],
) -> ReportRows:
    after = " ON COMMIT DROP" if cursor.postgres else ""
    if not cursor.postgres:  # left by a report that died on this pooled connection
        cursor.run(_DROP_TICKETS)
        cursor.run(_DROP_COPIES)
    cursor.run(_CREATE_TICKETS + after)
    cursor.run(_CREATE_COPIES + after)
    solved = _SOLVED + (" AND t.team = {mark}" if team is not None else "")
    cursor.run(_FILL_TICKETS + solved, (since, until) if team is None else (since, until, team))
    _analyze(cursor, "report_tickets")
    cursor.run(_FILL_COPIES)
    since_sent = _since_sent(cursor, until)

    def bounded(sql: str) -> str:
        if not cursor.postgres:  # "+": a filter, never a reason to choose another index
            sql = sql.replace(_SINCE, " AND +e.ts >= {since}")
        return sql.replace("{since}", since_sent)

    marks = [(name, sql) for name, sql, needed_by in _MARKS if parts & needed_by]
    if marks:
        help_link = _HELP.format(terms=" OR ".join([_PREFIX] * len(prefixes))) if prefixes else "0"
        setting = ", ".join(f"{name} = {sql}" for name, sql in marks)
        helped = any(name == "help" for name, _sql in marks)
        cursor.run(
            bounded(_MARK + setting).replace("{help}", help_link),
            [p for p in prefixes for _ in range(2)] if helped else (),
        )

    _analyze(cursor, "report_copies")

    def read(sql: str, *needed_by: str) -> list[Any]:
        return cursor.rows(bounded(sql)) if parts.intersection(needed_by) else []

    return ReportRows(
        tickets=cursor.rows(_TICKETS),
        mail=read(_MAIL, OUTCOMES),
        links=read(_LINKS, CONTENT),
        clicks=read(_CLICKS, OUTCOMES, CONTENT),
        # "came back" is both parts'; the content asks it only of the tickets clicked
        replies=read(_REPLIES if OUTCOMES in parts else _CLICKED_REPLIES, OUTCOMES, CONTENT),
        requesters=read(
            _REQUESTERS if OUTCOMES in parts else _CLICKED_REQUESTERS, OUTCOMES, CONTENT
        ),
        subjects=read(_SUBJECTS, CONTENT),
        opens_by_agent=read(_OPENS_BY_AGENT, SIGNALS),
    )


def _analyze(cursor: _Cursor, table: str) -> None:
    """Statistics of a temporary table just filled, before a statement joins it: without
    them PostgreSQL's planner guesses its size and hashes every message to find the
    copies of 2,000 tickets (SQLite's has none to take)."""
    if cursor.postgres:
        cursor.run(f"ANALYZE {table}")


def _since_sent(cursor: _Cursor, until: float) -> str:
    """The bound on the events' time (``{since}``) as SQL: the earliest copy's sending
    less ``BEFORE_SENT``."""
    [(earliest,)] = cursor.rows(_EARLIEST)
    return repr(float(until if earliest is None else earliest) - BEFORE_SENT)


# Every read of events below is bounded by the earliest copy's sending less BEFORE_SENT
# (schema.py). On PostgreSQL that keeps a report to the months of its period; on SQLite
# the bound is written ``+e.ts``, a filter only: as an index term it made the planner
# leave ``ix_events_report`` and took the Content and Outcomes parts from 1.0-1.3 to
# 2.1-2.4 s at 100,000 tickets.
_EARLIEST = "SELECT MIN(sent_at) FROM report_copies"
_SINCE = " AND e.ts >= {since}"

# Every query below is written here in full; only marks (? or %s) and the bound on the
# events' time ({since}: a number) are filled in. CROSS JOIN fixes SQLite's join order
# (copies first, then their events by index); PostgreSQL plans it as any join.
_SOLVED_AT = "COALESCE(t.solved_at, t.updated_at)"
_SOLVED = (
    f"SELECT t.id, t.team, t.requester, t.created_at, {_SOLVED_AT} AS solved_at "
    f"FROM tickets t WHERE t.status IN ('solved', 'closed') "
    f"AND {_SOLVED_AT} >= {{mark}} AND {_SOLVED_AT} < {{mark}}"
)
_CREATE_TICKETS = (
    "CREATE TEMPORARY TABLE report_tickets "
    "(id TEXT, team TEXT, requester TEXT, created_at FLOAT, solved_at FLOAT)"
)
_CREATE_COPIES = (
    "CREATE TEMPORARY TABLE report_copies (ticket TEXT, copy TEXT, message_id TEXT, "
    "sent_at BIGINT, tracking TEXT, template TEXT, opened INTEGER, help INTEGER, "
    "raw_opened INTEGER, clicked INTEGER, raw_clicked INTEGER)"
)
_FILL_TICKETS = "INSERT INTO report_tickets "
_DROP_TICKETS = "DROP TABLE IF EXISTS temp.report_tickets"
_DROP_COPIES = "DROP TABLE IF EXISTS temp.report_copies"
# The copies in the order of their ids, the order of ix_events_report: each copy's step
# into the index lands next to the one before.
_COPY_COLUMNS = (
    "s.id AS ticket, m.id AS copy, m.message_id, m.sent_at, m.tracking, "
    "REPLACE(COALESCE(m.subject, ''), '[#' || s.id || ']', '') AS template, 0, 0, 0, 0, 0"
)
_FILL_COPIES = (
    "INSERT INTO report_copies "
    f"SELECT {_COPY_COLUMNS} FROM report_tickets s CROSS JOIN messages m WHERE m.ticket = s.id "
    f"UNION ALL SELECT {_COPY_COLUMNS} FROM report_tickets s CROSS JOIN ticket_messages n "
    "CROSS JOIN messages m WHERE n.ticket = s.id AND m.message_id = n.message_id "
    "AND (m.ticket IS NULL OR m.ticket <> s.id) ORDER BY copy"
)
# Whether a person opened each copy, whether anything did, whether anything clicked one of
# its links and whether a person did (each one step into ix_events_report, stopping at the
# first; a click on no link of the copy is the hidden trap link, never counted), and
# whether it carried a link starting with one of the prefixes (compared as text, exactly:
# LIKE would take a prefix's "_" and "%" for patterns, and SQLite's ignores case). Each
# mark is found only when a part asked for reads it: the outcomes read "opened" and
# "help", the content the rest; the signals none.
_MARKS: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "opened",
        "CASE WHEN EXISTS (SELECT 1 FROM events e "
        "WHERE e.message = report_copies.copy AND e.ts >= {since} "
        "AND e.kind = 'open' AND e.verdict = 'human') THEN 1 ELSE 0 END",
        frozenset({OUTCOMES, CONTENT}),
    ),
    (
        "raw_opened",
        "CASE WHEN EXISTS (SELECT 1 FROM events e "
        "WHERE e.message = report_copies.copy AND e.ts >= {since} AND e.kind = 'open') "
        "THEN 1 ELSE 0 END",
        frozenset({CONTENT}),
    ),
    (
        "raw_clicked",
        "CASE WHEN EXISTS (SELECT 1 FROM events e CROSS JOIN links l "
        "WHERE e.message = report_copies.copy AND e.ts >= {since} AND e.kind = 'click' "
        "AND l.message = e.message AND l.idx = e.link) THEN 1 ELSE 0 END",
        frozenset({CONTENT}),
    ),
    (
        "clicked",
        "CASE WHEN EXISTS (SELECT 1 FROM events e CROSS JOIN links l "
        "WHERE e.message = report_copies.copy AND e.ts >= {since} AND e.kind = 'click' "
        "AND e.verdict = 'human' "
        "AND l.message = e.message AND l.idx = e.link) THEN 1 ELSE 0 END",
        frozenset({CONTENT}),
    ),
    ("help", "{help}", frozenset({OUTCOMES})),
)
_MARK = "UPDATE report_copies SET "
_HELP = (
    "CASE WHEN EXISTS (SELECT 1 FROM links l WHERE l.message = report_copies.copy "
    "AND ({terms})) THEN 1 ELSE 0 END"
)
_PREFIX = "substr(l.url, 1, length(CAST({mark} AS TEXT))) = CAST({mark} AS TEXT)"
_TICKETS = "SELECT id, team, requester, created_at, solved_at FROM report_tickets"
_MAIL = (
    "SELECT ticket, COUNT(DISTINCT message_id), MIN(sent_at), MAX(opened), MAX(help) "
    "FROM report_copies GROUP BY ticket"
)
# A copy's click on this very link is looked for only on the copies anything clicked (the
# CASE stops there on both backends; an AND need not). It costs 50 ms of the 30 days at
# 1,000,000 events (bench/report.py): one step into ix_events_report per copy and link.
_LINKS = (
    "SELECT l.url, COUNT(DISTINCT c.message_id), "
    "COUNT(DISTINCT CASE WHEN c.opened = 1 THEN c.message_id END), "
    "COUNT(DISTINCT CASE WHEN c.raw_opened = 1 THEN c.message_id END), "
    "COUNT(DISTINCT CASE WHEN c.raw_clicked = 0 THEN NULL WHEN EXISTS (SELECT 1 FROM events e "
    "WHERE e.message = c.copy AND e.ts >= {since} AND e.kind = 'click' AND e.link = l.idx) "
    "THEN c.message_id END) "
    "FROM report_copies c CROSS JOIN links l WHERE l.message = c.copy GROUP BY l.url"
)
_CLICKS = (
    "SELECT c.ticket, c.message_id, l.url, MIN(e.ts) "
    "FROM report_copies c CROSS JOIN events e CROSS JOIN links l "
    "WHERE e.message = c.copy AND e.ts >= {since} AND e.kind = 'click' AND e.verdict = 'human' "
    "AND l.message = c.copy AND l.idx = e.link GROUP BY c.ticket, c.message_id, l.url"
)
_REPLIES_WHERE = (
    "SELECT c.ticket, e.ts FROM report_copies c CROSS JOIN events e "
    "WHERE e.message = c.copy AND e.ts >= {since} AND e.kind = 'reply' "
    "AND e.verdict <> 'machine' "
)
_REPLIES = _REPLIES_WHERE + "ORDER BY c.ticket, e.ts"
# The content part asks whether a customer came back only after a person's click (on the
# tickets of ``_CLICKS``): it reads the replies and requesters of those tickets alone.
_CLICKED = "(SELECT ticket FROM report_copies WHERE clicked = 1)"
_CLICKED_REPLIES = _REPLIES_WHERE + f"AND c.ticket IN {_CLICKED} ORDER BY c.ticket, e.ts"
# Their requesters' tickets created since the first of them was (or its first mail went
# out): what came after is all that "another ticket within 7 days" can find. Sorted, as
# reports/facts.py searches them.
_REQUESTERS_OF = (
    "SELECT o.requester, o.id, o.created_at FROM tickets o "
    "WHERE o.requester IN (SELECT requester FROM report_tickets{only}) AND o.created_at >= "
    "(SELECT MIN(x) FROM (SELECT MIN(created_at) AS x FROM report_tickets "
    "UNION ALL SELECT MIN(sent_at) FROM report_copies) AS earliest) "
    "ORDER BY o.requester, o.created_at, o.id"
)
_REQUESTERS = _REQUESTERS_OF.replace("{only}", "")
_CLICKED_REQUESTERS = _REQUESTERS_OF.replace("{only}", f" WHERE id IN {_CLICKED}")
_SUBJECTS = (
    "SELECT template, COUNT(DISTINCT message_id), "
    "COUNT(DISTINCT CASE WHEN opened = 1 THEN message_id END), "
    "COUNT(DISTINCT CASE WHEN raw_opened = 1 THEN message_id END), "
    "COUNT(DISTINCT CASE WHEN clicked = 1 THEN message_id END), "
    "COUNT(DISTINCT CASE WHEN raw_clicked = 1 THEN message_id END) "
    "FROM report_copies WHERE tracking = 'full' GROUP BY template"
)
_OPENS_BY_AGENT = (
    "SELECT e.verdict, e.agent, COUNT(*) FROM (SELECT DISTINCT copy FROM report_copies) c "
    "CROSS JOIN events e WHERE e.message = c.copy AND e.ts >= {since} "
    "AND e.kind = 'open' "
    "GROUP BY e.verdict, e.agent"
)
