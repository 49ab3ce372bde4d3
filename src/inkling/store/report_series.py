"""The opens on the solved tickets' mail, per UTC day: what the Signals page draws over time.

The report (``store/reports.py``) has only totals per (verdict, agent); this counts the
same opens per day as well, and the tickets solved, so that the Signals page needs no
whole report (at 100,000 tickets, bench/dashboard.py: these two queries take a fraction
of the report's reading). The mail is selected as the report selects it: the tickets
whose status is solved or closed and whose ``solved_at`` (or ``updated_at`` when the
helpdesk gave none) falls in ``[since, until)``, maybe of one team; their copies by
``messages.ticket`` or by the ticket naming their Message-ID, each copy once; every open
on them whatever its verdict, including opens on days outside the period (the caller
decides what to do with those). The database counts: one row per day, verdict and agent,
never one per event, read through ``ix_events_report``.

Days are UTC days, numbered from 1970-01-01, computed from the epoch seconds by
arithmetic on both backends (no time-zone functions): ``floor(ts / 86400)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func, literal_column, select, union

from inkling.store.engine import Database
from inkling.store.schema import events, messages, ticket_messages, tickets

#: (day: whole UTC days since 1970-01-01, verdict, agent, opens), by day
DayRow = tuple[int, str, str | None, int]
_DAY_SECONDS: Any = literal_column("86400")  # a literal, so GROUP BY repeats the same text


class ReportSeries:
    """Counts the opens the reports count, per UTC day."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def tickets_solved(self, since: float, until: float, team: str | None = None) -> int:
        """How many tickets were solved in ``[since, until)`` (of ``team`` only, if given):
        the report's ``tickets_solved``."""
        query = select(func.count()).select_from(_solved(since, until, team).subquery())
        with self._db.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def opens_by_day(self, since: float, until: float, team: str | None = None) -> list[DayRow]:
        """The opens on the mail of the tickets solved in ``[since, until)`` (of ``team``
        only, if given), per UTC day, verdict and agent, the earliest day first."""
        day = _day(self._db.dialect)
        query = (
            select(day, events.c.verdict, events.c.agent, func.count())
            .where(events.c.kind == "open", events.c.message.in_(_copies(since, until, team)))
            .group_by(day, events.c.verdict, events.c.agent)
            .order_by(day, events.c.verdict, events.c.agent)
        )
        with self._db.connect() as connection:
            found = connection.execute(query).all()
        return [(int(d), str(verdict), agent, int(n)) for d, verdict, agent, n in found]


def _day(dialect: str) -> Any:
    """The UTC day of an event, as a whole number. SQLite's CAST truncates, which is the
    floor for every time after 1970 (a report's period starts there at the earliest);
    PostgreSQL's CAST would round, so it floors first."""
    if dialect == "postgresql":
        return cast(func.floor(events.c.ts / _DAY_SECONDS), BigInteger)
    return cast(events.c.ts / _DAY_SECONDS, Integer)


def _solved(since: float, until: float, team: str | None) -> Any:
    """The ids of the tickets solved in the period, as the report chooses them."""
    solved_at = func.coalesce(tickets.c.solved_at, tickets.c.updated_at)
    solved = select(tickets.c.id).where(
        tickets.c.status.in_(("solved", "closed")), solved_at >= since, solved_at < until
    )
    return solved if team is None else solved.where(tickets.c.team == team)


def _copies(since: float, until: float, team: str | None) -> Any:
    """The ids of the copies sent on the solved tickets (a copy reached both ways, or on
    two tickets, once: the union and ``IN`` keep each once)."""
    solved = _solved(since, until, team)
    by_ticket = select(messages.c.id).where(messages.c.ticket.in_(solved))
    by_name = (
        select(messages.c.id)
        .join(ticket_messages, ticket_messages.c.message_id == messages.c.message_id)
        .where(ticket_messages.c.ticket.in_(solved))
    )
    return union(by_ticket, by_name)
