"""The reports' index on events: every column they read, so a report over a month of
1,000,000 events reads the index alone (docs/benchmarks.md, *Reports*).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_report", "events", ["message", "kind", "verdict", "agent", "link", "ts"]
    )


def downgrade() -> None:
    op.drop_index("ix_events_report", table_name="events")
