"""Opt-outs through the API: ``GET``, ``POST`` and ``DELETE /api/v1/optouts``.

The same book as ``inkling optout`` and the customer-facing notice: an address or domain
added here is never tracked again on any path. Each change is in the audit log, which
names a domain but never an address.
"""

# No "from __future__ import annotations": FastAPI reads the annotations at run time.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from inkling.api.access import RESPONSES, Principal
from inkling.api.problems import UNREADABLE_BODY, unprocessable
from inkling.privacy.optout import audit_words
from inkling.store.audit import AuditLog
from inkling.store.optouts import OptOutBook
from inkling.times import iso


class OptOutRequest(BaseModel):
    target: str = Field(
        description="An address (ana@example.com) or a whole domain (@example.com)",
        max_length=320,
    )


class OptOutEntry(BaseModel):
    target: str | None = Field(description="The address or @domain; null once erased")
    scope: str = Field(description='"address" or "domain"')
    source: str = Field(description='Who added it: "page" (the customer), "cli" or "api"')
    created_at: str


class OptOutChange(BaseModel):
    target: str
    changed: bool = Field(description="False when it was already so")


def optouts_router(book: OptOutBook, audit: AuditLog, admin: Callable[..., Principal]) -> APIRouter:
    """The routes, each behind ``admin`` (``access.require("privacy:admin")``)."""
    router = APIRouter(prefix="/api/v1/optouts", tags=["privacy"], responses=RESPONSES)
    Admin = Annotated[Principal, Depends(admin)]  # noqa: N806 (a type alias)

    @router.get("", summary="Every opt-out, oldest first")
    def list_optouts(caller: Admin) -> list[OptOutEntry]:
        del caller  # the dependency checked the scope
        return [
            OptOutEntry(
                target=e.address, scope=e.scope, source=e.source, created_at=iso(e.created_at)
            )
            for e in book.all()
        ]

    @router.post(
        "",
        summary="Stop tracking an address or a domain",
        responses={**UNREADABLE_BODY, **unprocessable("Neither an address nor a domain")},
    )
    def add_optout(body: OptOutRequest, caller: Admin) -> OptOutChange:
        stored, new = _changed(book.add, body.target, source="api")
        audit.record(caller.name, "optout.add", audit_words(stored))
        return OptOutChange(target=stored, changed=new)

    @router.delete(
        "/{target}",
        summary="Track an address or a domain again",
        responses={
            404: {"description": "No such opt-out"},
            **unprocessable("Neither an address nor a domain"),
        },
    )
    def remove_optout(target: str, caller: Admin) -> OptOutChange:
        stored, removed = _changed(book.remove, target)
        if not removed:
            raise HTTPException(404, f"{stored} has no opt-out")
        audit.record(caller.name, "optout.remove", audit_words(stored))
        return OptOutChange(target=stored, changed=True)

    return router


def _changed(
    change: Callable[..., tuple[str, bool]], target: str, **options: Any
) -> tuple[str, bool]:
    try:
        return change(target, **options)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
