"""The metrics over HTTP.

    GET /api/v1/reports?since=&until=&team=     the report (DESIGN.md, *Metrics*)

Scope ``reports:read`` (leads and admins hold it; an agent does not). The JSON is the one
``inkling report --format json`` prints; every figure is defined in docs/metrics.md.
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from inkling.api.access import RESPONSES, Principal
from inkling.errors import InklingError
from inkling.playbook.teams import TeamBook
from inkling.reports import Period, build_report, period
from inkling.store import Store

_TIME = "ISO 8601 with an offset (2026-11-01T00:00:00Z), or epoch seconds"


def reports_router(
    store: Store,
    teams: TeamBook,
    help_center: Sequence[str],
    require: Callable[[str], Callable[..., Principal]],
) -> APIRouter:
    """The route above behind ``require("reports:read")``; ``help_center``: the URL
    prefixes of help articles (``[reports] help_center``)."""
    router = APIRouter(responses=RESPONSES)
    prefixes = tuple(help_center)

    @router.get(
        "/api/v1/reports",
        summary="The metrics: outcomes, content, subject lines, signals",
        responses={422: {"description": "A time that is not one, or since not before until"}},
    )
    async def get_reports(
        caller: Annotated[Principal, Depends(require("reports:read"))],
        since: Annotated[
            str | None, Query(description=f"Tickets solved at or after: {_TIME}")
        ] = None,
        until: Annotated[str | None, Query(description=f"...and before: {_TIME}")] = None,
        team: Annotated[str | None, Query(description="Only this team's tickets")] = None,
    ) -> dict[str, Any]:
        """Over the tickets solved in ``[since, until)`` (default: the 30 days up to now),
        people's opens and clicks only: first contact resolution, time to resolution in
        business hours, repeat contacts, self-service completion, each split by
        engagement; each link's and each subject line's figures and flags; opens by what
        made them. A rate with nothing to divide by is null."""
        del caller  # whoever holds reports:read sees every team's figures
        covered = _period(since, until)
        if team is not None and "\x00" in team:
            raise HTTPException(422, "team must not contain a NUL character")
        made = await run_in_threadpool(
            build_report, store, teams, covered, team=team or None, help_center=prefixes
        )
        return made.as_json()

    return router


def _period(since: str | None, until: str | None) -> Period:
    try:
        return period(since, until)
    except InklingError as exc:
        raise HTTPException(422, str(exc)) from exc
