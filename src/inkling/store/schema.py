"""The tables, as SQLAlchemy Core. Migrations in ``migrations/versions`` create them.

Times are Unix seconds (float for events, integer for sends): the same on SQLite and
PostgreSQL, cheap to compare, and what the classifier works in.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

messages = Table(
    "messages",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("message_id", Text, nullable=False),
    Column("workflow", Text),
    Column("ticket", Text),
    Column("subject", Text),
    Column("sent_at", BigInteger, nullable=False),
    Column("links_total", Integer, nullable=False, default=0),
    # One row per copy sent: the relay sends each recipient a copy of its own (same
    # Message-ID header, own Inkling id and tokens). '' for a message registered without
    # a recipient (``inkling instrument``); a shared copy names all its recipients.
    Column("recipient", Text, nullable=False, default=""),
    # Why the copy went out without tracking (e.g. DKIM-signed and no key), else NULL.
    Column("untracked", Text),
    # When the upstream accepted the copy (relay only): a row without it is a send that
    # never completed, which a retry of the same message may replace.
    Column("relayed_at", BigInteger),
    UniqueConstraint("message_id", "recipient", name="uq_messages_message_id_recipient"),
)

links = Table(
    "links",
    metadata,
    Column("message", String(20), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("url", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("message", String(20), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("link", Integer),
    Column("ts", Float, nullable=False),
    Column("sent_at", BigInteger),
    Column("ip", String(64)),
    Column("user_agent", Text),
    Column("method", String(8), nullable=False),
    Column("headers", Text, nullable=False, default="{}"),
    Column("verdict", String(16), nullable=False, default="unknown"),
    Column("agent", String(64)),
    Column("reasons", Text, nullable=False, default="[]"),
    Index("ix_events_message_ts", "message", "ts"),
)

verdict_changes = Table(
    "verdict_changes",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("message", String(20), nullable=False),
    Column("event_ts", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("agent", String(64)),
    Column("reasons", Text, nullable=False),
    Column("changed_at", Float, nullable=False),
    Index("ix_verdict_changes_message", "message", "event_ts"),
)
