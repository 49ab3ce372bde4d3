"""Messages, their links, and events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("message_id", sa.Text, nullable=False, unique=True),
        sa.Column("workflow", sa.Text),
        sa.Column("ticket", sa.Text),
        sa.Column("subject", sa.Text),
        sa.Column("sent_at", sa.BigInteger, nullable=False),
        sa.Column("links_total", sa.Integer, nullable=False),
    )
    op.create_table(
        "links",
        sa.Column(
            "message",
            sa.String(20),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("message", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("link", sa.Integer),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("sent_at", sa.BigInteger),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.Text),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("reasons", sa.Text, nullable=False),
    )
    op.create_index("ix_events_message_ts", "events", ["message", "ts"])


def downgrade() -> None:
    op.drop_index("ix_events_message_ts", "events")
    op.drop_table("events")
    op.drop_table("links")
    op.drop_table("messages")
