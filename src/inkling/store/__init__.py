"""Persistence: the only package that speaks SQL.

:class:`Store` is one database with its parts: ``messages`` (sent copies and their links)
``events`` (events, verdict history, the journal's load progress) and ``tickets``. Tables are
SQLAlchemy Core (``schema.py``), migrated by Alembic on first use (``engine.py``).
"""

from __future__ import annotations

from inkling.store.accounts import Accounts, ApiKey, User
from inkling.store.audit import AuditEntry, AuditLog
from inkling.store.deliveries import Claim, ClaimState, Deliveries
from inkling.store.engine import Database
from inkling.store.events import EventLoader, Events, SegmentProgress
from inkling.store.imports import Imports
from inkling.store.leases import Lease, Leases
from inkling.store.messages import SUBJECT_TICKET, Messages, Search
from inkling.store.notices import Notices
from inkling.store.optouts import OptOut, OptOuts
from inkling.store.partitions import Month, Partitions
from inkling.store.policies import Policies, SetPolicy
from inkling.store.report_series import ReportSeries
from inkling.store.reports import ReportRows, Reports
from inkling.store.retention import Purged, Retention
from inkling.store.subjects import Erased, Subjects
from inkling.store.tickets import LastHit, Signal, Thread, Tickets


class Store:
    """A database holding sent copies, their links and their events.

    Making one connects to nothing: the first operation does, and migrates the schema if
    it is behind. Every error is a :class:`inkling.errors.StoreError`.
    """

    def __init__(self, url: str, *, subject_ticket: str | None = SUBJECT_TICKET) -> None:
        self.database = Database(url)
        self.messages = Messages(self.database, subject_ticket=subject_ticket)
        #: Helpdesk tickets, their contacts, and what the triage queue reads.
        self.tickets = Tickets(self.database)
        #: The events table's months (PostgreSQL; nothing to do on SQLite).
        self.partitions = Partitions(self.database)
        self.events = Events(self.database, self.partitions)
        #: Claims on copies being delivered (the relay and the sending API).
        self.deliveries = Deliveries(self.database)
        #: Batch look-ups for events imports (providers.Importer).
        self.imports = Imports(self.database)
        #: Who asked not to be tracked (by digest; privacy/optout.py makes them).
        self.optouts = OptOuts(self.database)
        #: Workflow policies set on the dashboard, over the settings' own.
        self.policies = Policies(self.database)
        #: Every admin action, export and erase.
        self.audit = AuditLog(self.database)
        #: Expired events purged, their counts kept (``event_tallies``).
        self.retention = Retention(self.database, self.partitions)
        #: Data-subject requests: a contact's data exported or erased.
        self.subjects = Subjects(self.database)
        #: Dashboard users and API keys (api/access.py decides what they may do).
        self.accounts = Accounts(self.database)
        #: What the metrics are computed from (``inkling.reports``).
        self.reports = Reports(self.database)
        #: The same opens per UTC day (the Signals page's series).
        self.report_series = ReportSeries(self.database)
        #: Who does the work one node at a time does (``inkling/leased.py``).
        self.leases = Leases(self.database)
        #: Notices between nodes (PostgreSQL's LISTEN/NOTIFY): the live feed's fan-out.
        self.notices = Notices(self.database)

    @property
    def url(self) -> str:
        return self.database.url

    def close(self) -> None:
        self.database.close()


__all__ = [
    "Accounts",
    "ApiKey",
    "AuditEntry",
    "AuditLog",
    "Claim",
    "ClaimState",
    "Database",
    "Deliveries",
    "Erased",
    "EventLoader",
    "Events",
    "LastHit",
    "Lease",
    "Leases",
    "Messages",
    "Month",
    "Notices",
    "OptOut",
    "OptOuts",
    "Partitions",
    "Policies",
    "Purged",
    "ReportRows",
    "Reports",
    "Retention",
    "Search",
    "SegmentProgress",
    "SetPolicy",
    "Signal",
    "Store",
    "Subjects",
    "Thread",
    "Tickets",
    "User",
]
