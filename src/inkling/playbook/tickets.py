"""One ticket as an agent opens it: the ticket, its messages side by side, the reading of
its latest message and what to do next."""

from __future__ import annotations

from typing import Any

from inkling.classify.signatures import UserAgents
from inkling.playbook.queue import recommendation_for
from inkling.playbook.teams import TeamBook
from inkling.signals.search import read_thread
from inkling.signals.sentence import sentence
from inkling.store import Store
from inkling.tickets.upsert import ticket_json
from inkling.times import iso


def ticket_view(
    store: Store, teams: TeamBook, user_agents: UserAgents, ident: str, at: float
) -> dict[str, Any]:
    """The ticket ``ident`` at ``at``; UnknownTicket if there is none. ``user_agents``
    names the mail programs in the sentence (the table the API loaded once)."""
    ticket = store.tickets.get(ident)
    copies = [c for c in store.tickets.messages_of(ident) if c.sent_at <= at]
    message_ids = list(dict.fromkeys(c.message_id for c in copies))
    threads = [read_thread(store, m, at=at) for m in message_ids]
    latest = store.tickets.latest_threads([ident], at).get(ident)
    found = recommendation_for(ticket, latest, teams, at)
    reading = None
    if latest is not None:
        events = [e for c in latest.copies for e in store.events.for_message(c.id) if e.ts <= at]
        reading = {
            "message": latest.message_id,
            "state": found.state.value if found.state is not None else None,
            "sentence": sentence(sorted(events, key=lambda e: e.ts), user_agents),
        }
    return {
        "ticket": ticket_json(ticket),
        "messages": [t.as_json() for t in threads],
        "reading": reading,
        "recommendation": {
            "action": found.action.value,
            "due": iso(found.due) if found.due is not None else None,
            "due_now": found.due is not None and found.due <= at,
            "state": found.state.value if found.state is not None else None,
            "message": latest.message_id if latest is not None else None,
            "reason": found.reason,
        },
    }
