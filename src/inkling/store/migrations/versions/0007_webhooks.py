"""Webhook subscriptions and their outbox; an index of signals by time for the live feed.

Both tables start empty, so going back only drops them.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SIGNALS_WHERE = "verdict = 'human' OR kind NOT IN ('open', 'click')"


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("types", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "subscription",
            sa.String(32),
            sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("subscription", "event", name="uq_webhook_outbox_subscription_event"),
    )
    op.create_index("ix_webhook_outbox_queue", "webhook_outbox", ["subscription", "state", "id"])
    op.create_index(
        "ix_events_signals_ts",
        "events",
        ["ts"],
        sqlite_where=sa.text(SIGNALS_WHERE),
        postgresql_where=sa.text(SIGNALS_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_events_signals_ts", "events")
    op.drop_table("webhook_outbox")
    op.drop_table("webhook_subscriptions")
