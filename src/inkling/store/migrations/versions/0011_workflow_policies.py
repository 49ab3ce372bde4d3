"""Workflow policies set on the dashboard's Settings page: each one overrides the
settings' ``[workflows.NAME]`` for its workflow (store/policies.py).

The table starts empty, so going back only drops it.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_policies",
        sa.Column("workflow", sa.Text, primary_key=True),
        sa.Column("tracking", sa.String(8), nullable=False),
        sa.Column("read_receipt", sa.Boolean, nullable=False),
        sa.Column("disclosure", sa.Boolean, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workflow_policies")
