"""How much of each copy is tracked: "full", "clicks" (links only) or "none".

Copies registered before it are "full", or "none" where ``untracked`` says why not.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("tracking", sa.String(8), nullable=False, server_default="full"))
    op.execute("UPDATE messages SET tracking = 'none' WHERE untracked IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("tracking")
