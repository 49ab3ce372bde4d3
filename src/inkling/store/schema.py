"""The tables, as SQLAlchemy Core. Migrations in ``migrations/versions`` create them.

Times are Unix seconds (float for events, integer for sends): the same on SQLite and
PostgreSQL, cheap to compare, and what the classifier works in.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

#: The events that can be a sign of a person or say something by mail.
SIGNALS_WHERE = "verdict = 'human' OR kind NOT IN ('open', 'click')"
#: How long before its copy was sent an event may be and still count as the copy's
#: (clocks differ between the sender and the nodes). The queue and the reports read
#: events only from then on, which on PostgreSQL keeps them to the months since
#: (store/partitions.py), not every month kept.
BEFORE_SENT = 86400.0

messages = Table(
    "messages",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("message_id", Text, nullable=False),
    Column("workflow", Text),
    Column("ticket", Text),
    Column("subject", Text),
    Column("sent_at", BigInteger, nullable=False),
    Column("links_total", Integer, nullable=False, default=0),
    # One row per copy sent: the relay sends each recipient a copy of its own (same
    # Message-ID header, own Inkling id and tokens). '' for a message registered without
    # a recipient (``inkling instrument``); a shared copy names all its recipients.
    Column("recipient", Text, nullable=False, default=""),
    # Why the copy went out without tracking, or with less than full tracking ("policy",
    # "opt_out", "sensitive: card number", "DKIM-signed and no key to re-sign"), else NULL.
    Column("untracked", Text),
    # "full" (pixel and links), "clicks" (links only) or "none".
    Column("tracking", String(8), nullable=False, server_default="full"),
    # When the upstream accepted the copy (relay only): a row without it is a send that
    # never completed, which a retry of the same message may replace.
    Column("relayed_at", BigInteger),
    UniqueConstraint("message_id", "recipient", name="uq_messages_message_id_recipient"),
    Index("ix_messages_ticket", "ticket", "sent_at"),
    Index("ix_messages_sent_at", "sent_at"),
)

links = Table(
    "links",
    metadata,
    Column("message", String(20), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("url", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    # Given when the event is recorded (the journal's segment and position, or random for
    # mail), so loading the same event twice is a no-op and history can point at it.
    Column("id", String(32), primary_key=True),
    Column("message", String(20), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("link", Integer),
    Column("ts", Float, nullable=False),
    Column("sent_at", BigInteger),
    Column("method", String(8), nullable=False),
    Column("ip", String(64)),
    # The published network of the whole address, looked up before it was truncated:
    # '' looked up and in none, NULL never looked up (mail, imports).
    Column("network", String(32)),
    Column("user_agent", Text),
    Column("evidence", Text, nullable=False, default="{}"),  # a hit's request headers
    Column("details", Text, nullable=False, default="{}"),  # what a returned mail said
    Column("verdict", String(16), nullable=False, default="unknown"),
    Column("agent", String(64)),
    Column("reasons", Text, nullable=False, default="[]"),
    Column("leanings", Text, nullable=False, default="[]"),  # where each reason points
    Index("ix_events_message_ts", "message", "ts"),
    # The customers' replies, few beside the hits: the queue reads them all at once.
    Index(
        "ix_events_replies",
        "message",
        sqlite_where=text("kind = 'reply'"),
        postgresql_where=text("kind = 'reply'"),
    ),
    # What the triage queue reads: hits judged human, and every mail that came back.
    Index(
        "ix_events_signals",
        "message",
        "ts",
        sqlite_where=text(SIGNALS_WHERE),
        postgresql_where=text(SIGNALS_WHERE),
    ),
)

verdict_changes = Table(
    "verdict_changes",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event", String(32), nullable=False),
    Column("message", String(20), nullable=False),
    Column("previous", String(16), nullable=False),
    Column("previous_agent", String(64)),
    Column("verdict", String(16), nullable=False),
    Column("agent", String(64)),
    Column("reasons", Text, nullable=False),
    Column("changed_at", Float, nullable=False),
    Index("ix_verdict_changes_message", "message"),
)

# How far each journal segment has been loaded: updated in the same transaction as the
# events it moved, so a crash between that commit and the segment's removal loads nothing
# twice.
journal_progress = Table(
    "journal_progress",
    metadata,
    Column("segment", String(16), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("next_index", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# A copy the relay or the sending API is delivering now: claimed (committed) before
# anything is sent, so two attempts never send the same copy and a restart knows what a
# dead process left half done. ``state``: "claimed", then "committing" just before the
# final dot of DATA. A row lives only while its delivery is unsettled: once the upstream
# has the copy, ``messages.relayed_at`` says so and the row goes (so no second table keeps
# the recipient's address); a refused copy's row goes with its record.
deliveries = Table(
    "deliveries",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("recipient", Text, primary_key=True),  # the copy's recipient(s), lowercase
    Column("copy", String(20), nullable=False),  # the Inkling id of the attempt's copy
    Column("state", String(16), nullable=False),
    # The process delivering it (host, pid, a nonce) and until when its claim holds
    # without news: a claim whose holder is gone is released, or settled if it reached
    # "committing".
    Column("holder", Text, nullable=False),
    Column("lease_until", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# One row per requester address: what a ticket's requester is, and what privacy's export
# and erase (by contact) start from.
contacts = Table(
    "contacts",
    metadata,
    Column("address", Text, primary_key=True),  # lowercase
    Column("created_at", Float, nullable=False),
)

# A helpdesk's ticket, by its own id. Times are Unix seconds. ``extra``: the keys of the
# upsert Inkling has no column for, as JSON.
tickets = Table(
    "tickets",
    metadata,
    Column("id", Text, primary_key=True),
    Column("subject", Text),
    Column("priority", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("team", Text),
    Column("assignee", Text),
    Column("requester", Text),  # a contacts.address
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("solved_at", Float),
    Column("source", Text),
    Column("extra", Text, nullable=False, server_default="{}"),
    Index("ix_tickets_status", "status"),
    Index("ix_tickets_requester", "requester"),
)

# The Message-IDs a ticket's upsert names as its own (``message_ids``).
ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("ticket", Text, primary_key=True),
    Column("message_id", Text, primary_key=True),
    Index("ix_ticket_messages_message_id", "message_id"),
)

# Webhook subscriptions: an endpoint, the event types it wants ("message.clicked,...", or
# "*"), and its signing secret (``whsec_...``), kept as given: signing needs it whole.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", Text, nullable=False),
    Column("types", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# One event to announce to one subscription, written in the events' own transaction (see
# store/webhooks.py). ``event`` is the event's id (the webhook-id the receiver dedupes by);
# ``payload`` the JSON sent, written on the first attempt (given up front for events that
# are not stored events, such as ``recommendation.due``).
webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column(
        "subscription",
        String(32),
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("due_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),
    Column("payload", Text),
    Column("last_error", Text),
    UniqueConstraint("subscription", "event", name="uq_webhook_outbox_subscription_event"),
    # A subscription's queue, oldest first (the dispatcher reads its head).
    Index("ix_webhook_outbox_queue", "subscription", "state", "id"),
)

# What the reports read of each copy's events (store/reports.py): every column they use,
# so that counting a month's opens by verdict and agent never reads the events' rows.
Index(
    "ix_events_report",
    events.c.message,
    events.c.kind,
    events.c.verdict,
    events.c.agent,
    events.c.link,
    events.c.ts,
)

# What the live feed polls: signals by time alone (ix_events_signals leads with message).
Index(
    "ix_events_signals_ts",
    events.c.ts,
    sqlite_where=text(SIGNALS_WHERE),
    postgresql_where=text(SIGNALS_WHERE),
)

# Who asked not to be tracked: an address, or a whole domain ("@example.com"). Looked up by
# ``digest`` (HMAC-SHA256 of the lowercase address or "@domain" under the data dir's
# privacy key), so after an erase the row can keep the person untracked without holding
# their address: ``address`` is then NULL. ``source``: "page" (the customer), "cli", "api".
optouts = Table(
    "optouts",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("address", Text),
    Column("scope", String(8), nullable=False),  # "address" or "domain"
    Column("source", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)

# What was done, by whom: every admin action, export and erase (``inkling audit``). Never
# holds a data subject's address: ``target`` names what was acted on in other words.
audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", Float, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text),
    Column("details", Text, nullable=False, server_default="{}"),
    Index("ix_audit_log_at", "at"),
)

# The anonymous counts left when events go: by retention (``message`` kept, so a reading
# still says "12 opens, 3 by a person") or by an erase (``message`` NULL). ``day``: the
# events' UTC day as days since 1970.
event_tallies = Table(
    "event_tallies",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("message", String(20)),
    Column("day", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("agent", String(64)),
    Column("count", Integer, nullable=False),
    Index("ix_event_tallies_message", "message"),
)

# Dashboard and API users. ``teams``: comma-separated team names (an agent sees these
# teams' tickets). ``password``: an argon2 hash (pwdlib), NULL for a user who only has API
# keys. ``failed_logins``/``locked_until``: the login lockout (see api/access.py).
users = Table(
    "users",
    metadata,
    Column("email", Text, primary_key=True),  # lowercase
    Column("role", String(16), nullable=False),  # "agent", "lead" or "admin"
    Column("teams", Text, nullable=False, server_default=""),
    Column("password", Text),
    Column("created_at", Float, nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", Float),
)

# API keys: only a SHA-256 of each is kept (shown once when made). ``scopes``:
# comma-separated ("messages:read,messages:send,...", or "*"). ``owner``: the user whose
# role and teams also bound what the key reaches, or NULL for an integration's key.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),
    Column("owner", Text, ForeignKey("users.email", ondelete="CASCADE")),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
)

# Leases of the work one node at a time does (store/leases.py): the holder (a node's
# "host:pid:random") and when the lease runs out unless renewed, in epoch seconds.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# Announcements made once across every node and restart (``recommendation.due``, by the id
# ``webhooks/due.py`` gives it): the id is taken here in the same transaction that queues
# its deliveries, so a node taking over the announcer never announces it again.
announcements = Table(
    "announcements",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("type", String(40), nullable=False),
    Column("announced_at", Float, nullable=False),
)
