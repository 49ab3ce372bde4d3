"""On PostgreSQL, ``events`` partitioned by month of ``ts`` (store/partitions.py).

The table is renamed aside, a partitioned ``events`` made with the same columns, a
partition created for every month that holds events and for this month and the next
(``MONTHS_AHEAD``), the rows copied over, the old table dropped, and then its indexes
made again on the new one (building them after the copy is faster than keeping them up
during it). A partitioned table's unique keys must hold the partition key, so the primary
key becomes ``(id, ts)``: an event's id and time are both fixed when it is recorded, so
loading it twice still conflicts. SQLite keeps one table: nothing changes there.

The copy holds the table's lock for its length: about a minute a few million events on
this machine (docs/operations.md, *Upgrades*).

Revision ID: 0013
Revises: 0012
"""

import time

from alembic import op
from sqlalchemy import Connection

from inkling.store.partitions import Month, coming

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_INDEXES = (
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{table}' "
    "AND schemaname = current_schema() ORDER BY indexname"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    indexes = _secondary_indexes(bind, "events")
    op.execute("ALTER TABLE events RENAME TO events_unpartitioned")
    op.execute(
        "CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (ts)"
    )
    found = bind.exec_driver_sql(
        "SELECT DISTINCT EXTRACT(YEAR FROM to_timestamp(ts) AT TIME ZONE 'UTC')::int, "
        "EXTRACT(MONTH FROM to_timestamp(ts) AT TIME ZONE 'UTC')::int "
        "FROM events_unpartitioned"
    ).all()
    months = {Month(int(year), int(month)) for year, month in found} | set(coming(time.time()))
    for month in sorted(months):
        op.execute(month.create_sql())
    op.execute("INSERT INTO events SELECT * FROM events_unpartitioned")
    op.execute("DROP TABLE events_unpartitioned")
    op.execute("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, ts)")
    for definition in indexes:
        op.execute(definition)
    # New partitions have no statistics until autovacuum reaches them, and without them
    # the reports' plans went from 0.1 to 1.5 s on the demo's desk (docs/operations.md).
    op.execute("ANALYZE events")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    indexes = _secondary_indexes(bind, "events")
    op.execute("ALTER TABLE events RENAME TO events_partitioned")
    op.execute("CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS)")
    op.execute("INSERT INTO events SELECT * FROM events_partitioned")
    op.execute("DROP TABLE events_partitioned")  # and its partitions
    op.execute("ALTER TABLE events ADD CONSTRAINT events_new_pkey PRIMARY KEY (id)")
    for definition in indexes:
        op.execute(definition)


def _secondary_indexes(bind: Connection, table: str) -> list[str]:
    """How to make ``table``'s indexes again, but for its primary key's."""
    rows = bind.exec_driver_sql(_INDEXES.format(table=table)).all()
    return [definition for name, definition in rows if not name.endswith("_pkey")]
