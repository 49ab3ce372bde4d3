"""The audit log: every admin action, export and erase, in the order it happened.

An entry names the actor (a user's email, an API key's name, or ``cli`` for a command run
on the server), the action (``users.create``, ``contact.erase``, ...), what it acted on in
words that never hold a data subject's address, and details as JSON.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from inkling.store.engine import Database
from inkling.store.schema import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


class AuditLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    def record(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        at: float | None = None,
    ) -> None:
        row = {
            "at": time.time() if at is None else at,
            "actor": actor,
            "action": action,
            "target": target,
            "details": json.dumps(details or {}, sort_keys=True),
        }
        with self._database.begin() as connection:
            connection.execute(insert(audit_log), row)

    def entries(self, *, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` entries at or after ``since``, oldest first."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        with self._database.connect() as connection:
            rows = connection.execute(query).all()
        return [
            AuditEntry(r.id, r.at, r.actor, r.action, r.target, json.loads(r.details))
            for r in reversed(rows)
        ]
