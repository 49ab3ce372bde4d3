"""Data-subject requests and retention over HTTP.

    GET    /api/v1/contacts/{email}/export   everything held on a contact, as JSON
    DELETE /api/v1/contacts/{email}          erase it (anonymous counts kept)
    POST   /api/v1/purge                     purge expired events now

Each is written to the audit log with the caller as actor, in words that never hold the
contact's address. The erase and the purge are the store's (``store/subjects.py``,
``store/retention.py``); this module only speaks HTTP.
"""

# No "from __future__ import annotations": FastAPI reads the annotations at run time.
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import BaseModel, Field

from inkling.api.access import RESPONSES
from inkling.api.problems import UNREADABLE_BODY, unprocessable
from inkling.errors import RequestError
from inkling.store import Store
from inkling.store.retention import SECONDS_PER_DAY
from inkling.store.subjects import Erased, contact_words, export_counts
from inkling.times import iso

#: The longest retention a purge may be asked for (as the ``retention_days`` setting).
MAX_DAYS = 36_500
_BAD_ADDRESS = unprocessable("Not one email address")


class HeldElsewhere(BaseModel):
    table: str
    column: str
    value: str = Field(description="The whole value that names the contact")


class ContactExport(BaseModel):
    """Everything held on a contact. Rows hold their table's columns, times in ISO 8601
    UTC and JSON columns as their values."""

    address: str = Field(description="The address asked for, in lowercase")
    contact: dict[str, Any] | None = Field(description="The contact row, if any")
    tickets: list[dict[str, Any]] = Field(description="Tickets they requested")
    messages: list[dict[str, Any]] = Field(
        description="Copies sent to them (``shared``: with others too), each with its "
        "``links``, ``events`` (verdicts and reasons) and ``verdict_changes``"
    )
    optouts: list[dict[str, Any]]
    elsewhere: list[HeldElsewhere] = Field(
        description="Values in any other table or column that name them"
    )


class PurgeRequest(BaseModel):
    older_than_days: int | None = Field(
        default=None, ge=1, le=MAX_DAYS, description="Default: the retention_days setting"
    )


class Purged(BaseModel):
    older_than_days: int
    before: str = Field(description="Events before this time were purged (ISO 8601 UTC)")
    events: int
    verdict_changes: int
    webhook_deliveries: int
    tallies: int = Field(description="Count rows written for the purged events")


def privacy_router(
    store: Store, admin: Callable[..., str], *, retention_days: int = 180
) -> APIRouter:
    """The routes above, each behind ``admin``: a dependency that checks the caller may
    do this and returns their name."""
    router = APIRouter(tags=["privacy"], responses=RESPONSES)
    Admin = Annotated[str, Depends(admin)]  # noqa: N806 (a type alias)

    @router.get(
        "/api/v1/contacts/{email}/export",
        summary="Everything held on a contact",
        responses=_BAD_ADDRESS,
    )
    def export_contact(email: str, caller: Admin) -> ContactExport:
        """The contact, their tickets, the messages sent to them with links, events and
        verdicts, their opt-outs, and any other value naming them. An address nothing is
        held on answers empty lists."""
        exported = _asked(store.subjects.export, email)
        counts = export_counts(exported)
        words = contact_words(counts["tickets"], counts["messages"])
        store.audit.record(caller, "contact.export", words, counts)
        return ContactExport.model_validate(exported)

    @router.delete(
        "/api/v1/contacts/{email}",
        summary="Erase a contact",
        responses=_BAD_ADDRESS,
    )
    def erase_contact(email: str, caller: Admin) -> Erased:
        """Remove the contact, their tickets, the messages sent to them alone (with
        links and events) and their address from messages shared with others; keep
        their events' counts without a message, and their opt-out without the address.
        Any other value naming them is redacted. One transaction: all or nothing."""
        erased: Erased = _asked(store.subjects.erase, email)
        store.audit.record(caller, "contact.erase", erased.words(), erased.as_json())
        return erased  # the store's own record of it: one definition of what an erase says

    @router.post("/api/v1/purge", summary="Purge expired events now", responses=UNREADABLE_BODY)
    def purge(caller: Admin, body: Annotated[PurgeRequest | None, Body()] = None) -> Purged:
        """Delete the events older than ``older_than_days`` (default: the
        ``retention_days`` setting), keeping their counts for the readings. Messages and
        links stay: an old link still redirects. ``inkling serve`` also does this daily."""
        days = body.older_than_days if body and body.older_than_days else retention_days
        done = store.retention.purge(time.time() - days * SECONDS_PER_DAY)
        store.audit.record(caller, "events.purge", f"events older than {days} days", done.as_json())
        return Purged(older_than_days=days, before=iso(done.cutoff), **done.as_json())

    return router


def _asked(operation: Callable[[str], Any], email: str) -> Any:
    """``operation`` on the address in the path; 422 when it is not one address."""
    try:
        return operation(email)
    except RequestError as exc:
        raise HTTPException(422, exc.message) from exc
