"""One row per copy: a recipient column, uniqueness on (Message-ID, recipient).

The relay sends each recipient a copy of its own, so several rows share a Message-ID.
SQLite cannot drop a constraint in place: the table is rebuilt (Alembic's batch mode). The
rebuild drops the old table, and with foreign keys on that would cascade to ``links``, so
the links are set aside first and put back after.

Revision ID: 0003
Revises: 0002
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_NEW_UNIQUE = "uq_messages_message_id_recipient"
# The name SQLite's unnamed UNIQUE gets when reflected under this convention, and the
# name PostgreSQL gave it in 0001.
_SQLITE_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_OLD_UNIQUE = {"sqlite": "uq_messages_message_id", "postgresql": "messages_message_id_key"}


def upgrade() -> None:
    columns: list[sa.Column[Any]] = [
        sa.Column("recipient", sa.Text, nullable=False, server_default=""),
        sa.Column("untracked", sa.Text),
        sa.Column("relayed_at", sa.BigInteger),
    ]
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _rebuild_sqlite(columns, drop=_OLD_UNIQUE["sqlite"], create=["message_id", "recipient"])
        return
    for column in columns:
        op.add_column("messages", column)
    op.drop_constraint(_OLD_UNIQUE["postgresql"], "messages", type_="unique")
    op.create_unique_constraint(_NEW_UNIQUE, "messages", ["message_id", "recipient"])


def downgrade() -> None:
    """Back to one row per Message-ID; fails if copies share one (delete them first)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _rebuild_sqlite([], drop=_NEW_UNIQUE, create=["message_id"], remove=True)
        return
    op.drop_constraint(_NEW_UNIQUE, "messages", type_="unique")
    op.create_unique_constraint(_OLD_UNIQUE["postgresql"], "messages", ["message_id"])
    for name in ("relayed_at", "untracked", "recipient"):
        op.drop_column("messages", name)


def _rebuild_sqlite(
    columns: list[sa.Column[Any]], *, drop: str, create: list[str], remove: bool = False
) -> None:
    op.execute("CREATE TEMPORARY TABLE _inkling_links AS SELECT message, idx, url FROM links")
    op.execute("DELETE FROM links")
    with op.batch_alter_table(
        "messages", recreate="always", naming_convention=_SQLITE_CONVENTION
    ) as batch:
        for column in columns:
            batch.add_column(column)
        batch.drop_constraint(drop, type_="unique")
        if remove:
            for name in ("relayed_at", "untracked", "recipient"):
                batch.drop_column(name)
        name = _NEW_UNIQUE if len(create) > 1 else _OLD_UNIQUE["sqlite"]
        batch.create_unique_constraint(name, create)
    op.execute("INSERT INTO links (message, idx, url) SELECT message, idx, url FROM _inkling_links")
    op.execute("DROP TABLE _inkling_links")
