"""Leases of the work one node at a time does (store/leases.py), and the announcements
made once across nodes (``recommendation.due``: store/webhooks.py ``publish_once``).

Both tables start empty, so going back only drops them.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "announcements",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("announced_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("announcements")
    op.drop_table("leases")
