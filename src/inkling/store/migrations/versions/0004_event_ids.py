"""Events get ids of their own, evidence and details apart, the network of the whole
address; verdict history points at its event and keeps the verdict before; the journal's
load progress.

Events stored before this revision get ids ``legacy-N`` from their old row numbers. A
returned mail's details move from ``headers`` to ``details``; a hit's request headers
become ``evidence``. Verdict changes are matched to their event by message, time and kind
(which is what they named before; a change that matches no event is dropped).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events_new",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("message", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("link", sa.Integer),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("sent_at", sa.BigInteger),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("network", sa.String(32)),
        sa.Column("user_agent", sa.Text),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("leanings", sa.Text, nullable=False),
    )
    op.execute(
        "INSERT INTO events_new (id, message, kind, link, ts, sent_at, method, ip, network, "
        "user_agent, evidence, details, verdict, agent, reasons, leanings) "
        "SELECT 'legacy-' || CAST(id AS TEXT), message, kind, link, ts, sent_at, method, ip, "
        "NULL, user_agent, CASE WHEN kind IN ('open', 'click') THEN headers ELSE '{}' END, "
        "CASE WHEN kind IN ('open', 'click') THEN '{}' ELSE headers END, verdict, agent, "
        "reasons, '[]' "
        "FROM events"
    )
    op.create_table(
        "verdict_changes_new",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("message", sa.String(20), nullable=False),
        sa.Column("previous", sa.String(16), nullable=False),
        sa.Column("previous_agent", sa.String(64)),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
    )
    op.execute(
        "INSERT INTO verdict_changes_new (event, message, previous, previous_agent, verdict, "
        "agent, reasons, changed_at) "
        "SELECT matched.event, matched.message, 'unknown', NULL, matched.verdict, "
        "matched.agent, matched.reasons, matched.changed_at FROM ("
        "SELECT (SELECT 'legacy-' || CAST(e.id AS TEXT) FROM events e "
        "WHERE e.message = c.message AND e.ts = c.event_ts AND e.kind = c.kind "
        "ORDER BY e.id LIMIT 1) AS event, c.message, c.verdict, c.agent, c.reasons, "
        "c.changed_at, c.id FROM verdict_changes c) AS matched "
        "WHERE matched.event IS NOT NULL ORDER BY matched.id"
    )
    op.drop_table("verdict_changes")
    op.drop_table("events")
    op.rename_table("events_new", "events")
    op.rename_table("verdict_changes_new", "verdict_changes")
    op.create_index("ix_events_message_ts", "events", ["message", "ts"])
    op.create_index("ix_verdict_changes_message", "verdict_changes", ["message"])
    op.create_table(
        "journal_progress",
        sa.Column("segment", sa.String(16), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("next_index", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError(
        "revision 0004 gives events ids and splits evidence from details; going back would "
        "lose both. Restore a backup taken before upgrading instead."
    )
