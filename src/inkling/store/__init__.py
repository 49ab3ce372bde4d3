"""Persistence: SQLAlchemy Core tables, Alembic migrations, and the queries Inkling runs."""

from inkling.store.database import MessageRecord, Store

__all__ = ["MessageRecord", "Store"]
