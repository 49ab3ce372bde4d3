"""Workflow policies set on the dashboard: each one overrides its workflow's
``[workflows.NAME]`` in the settings, on every node, until it is cleared.

A row per workflow (a workflow the settings do not name may have one), with who set it
and when. ``relay/workflows.py`` reads them all at once, a few seconds apart, so the
relay, the sending API and ``inkling instrument`` apply the same policy; the audit log
says who changed what (the page writes it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Float, String, Table, Text, delete, select

from inkling.privacy.policy import Policy, Tracking
from inkling.store.engine import Database
from inkling.store.schema import metadata

# A workflow's policy as set on the dashboard's Settings page (migration 0011); defined
# here with its only reader and writer, in the schema's one ``metadata``.
workflow_policies = Table(
    "workflow_policies",
    metadata,
    Column("workflow", Text, primary_key=True),
    Column("tracking", String(8), nullable=False),  # "full", "clicks" or "none"
    Column("read_receipt", Boolean, nullable=False),
    Column("disclosure", Boolean, nullable=False),
    Column("changed_by", Text, nullable=False),  # the user (or key) who set it
    Column("changed_at", Float, nullable=False),
)


@dataclass(frozen=True, slots=True)
class SetPolicy:
    """A policy set on the dashboard: for which workflow, what, by whom and when."""

    workflow: str
    policy: Policy
    changed_by: str
    changed_at: float


class Policies:
    """The dashboard's workflow policies: read all, set one, clear one."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def all(self) -> list[SetPolicy]:
        """Every policy set, by workflow name."""
        query = select(workflow_policies).order_by(workflow_policies.c.workflow)
        with self._database.connect() as connection:
            rows = connection.execute(query).all()
        return [
            SetPolicy(
                row.workflow,
                Policy(Tracking(row.tracking), bool(row.read_receipt), bool(row.disclosure)),
                row.changed_by,
                row.changed_at,
            )
            for row in rows
        ]

    def overrides(self) -> dict[str, Policy]:
        """Every policy set, as the relay reads them (``Workflows(overrides=...)``)."""
        return {found.workflow: found.policy for found in self.all()}

    def set(self, workflow: str, policy: Policy, *, by: str, at: float | None = None) -> None:
        """Set ``workflow``'s policy (replacing one set before)."""
        values = {
            "tracking": policy.tracking.value,
            "read_receipt": policy.read_receipt,
            "disclosure": policy.disclosure,
            "changed_by": by,
            "changed_at": time.time() if at is None else at,
        }
        statement = (
            self._database.insert(workflow_policies)
            .values(workflow=workflow, **values)
            .on_conflict_do_update(index_elements=["workflow"], set_=values)
        )
        with self._database.begin() as connection:
            connection.execute(statement)

    def clear(self, workflow: str) -> bool:
        """Drop ``workflow``'s policy (the settings' applies again); whether it had one."""
        statement = delete(workflow_policies).where(workflow_policies.c.workflow == workflow)
        with self._database.begin() as connection:
            return bool(connection.execute(statement).rowcount)
