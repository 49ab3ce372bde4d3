"""Tickets, their requesters (contacts) and the Message-IDs a helpdesk says are theirs.

Also an index for the triage queue: the events that can be a sign of a person or say
something by mail (human hits, and every mail that came back), by message and time, so
the queue reads those and not every machine fetch; and one of the customers' replies
alone, few beside the hits, which the queue reads whole.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SIGNALS_WHERE = "verdict = 'human' OR kind NOT IN ('open', 'click')"


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("address", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("team", sa.Text),
        sa.Column("assignee", sa.Text),
        sa.Column("requester", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("solved_at", sa.Float),
        sa.Column("source", sa.Text),
        sa.Column("extra", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_tickets_status", "tickets", ["status"])
    op.create_index("ix_tickets_requester", "tickets", ["requester"])
    op.create_table(
        "ticket_messages",
        sa.Column("ticket", sa.Text, primary_key=True),
        sa.Column("message_id", sa.Text, primary_key=True),
    )
    op.create_index("ix_ticket_messages_message_id", "ticket_messages", ["message_id"])
    op.create_index("ix_messages_ticket", "messages", ["ticket", "sent_at"])
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_index(
        "ix_events_replies",
        "events",
        ["message"],
        sqlite_where=sa.text("kind = 'reply'"),
        postgresql_where=sa.text("kind = 'reply'"),
    )
    op.create_index(
        "ix_events_signals",
        "events",
        ["message", "ts"],
        sqlite_where=sa.text(SIGNALS_WHERE),
        postgresql_where=sa.text(SIGNALS_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_events_signals", "events")
    op.drop_index("ix_events_replies", "events")
    op.drop_index("ix_messages_sent_at", "messages")
    op.drop_index("ix_messages_ticket", "messages")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
    op.drop_table("contacts")
