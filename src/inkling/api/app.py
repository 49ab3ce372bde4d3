"""The API app (FastAPI). The tracker's hot path does not go through it: the tracker answers
``/t/...`` itself and hands everything else here.

    GET /api/v1/messages/{message}     the reading of a message (Message-ID or Inkling id)
    GET /api/openapi.json              the OpenAPI description
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time,
# including those of the dependencies defined inside build_api.
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from inkling.api.keys import ApiKeys
from inkling.classify.signatures import UserAgents
from inkling.errors import AmbiguousMessage, UnknownMessage
from inkling.signals.reading import read_message
from inkling.store import Store

_bearer = HTTPBearer(auto_error=False, description="An API key from `inkling users add NAME`")


def build_api(store: Store, keys: ApiKeys) -> FastAPI:
    api = FastAPI(
        title="Inkling",
        summary="Honest email tracking for customer-support teams",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    user_agents = UserAgents.load()

    def user(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        name = keys.user_for(credentials.credentials) if credentials else None
        if name is None:
            raise HTTPException(
                401, "a valid API key is needed", headers={"WWW-Authenticate": "Bearer"}
            )
        return name

    @api.get("/api/v1/messages/{message:path}", summary="The reading of a message")
    def reading(
        message: str,
        caller: Annotated[str, Depends(user)],
        limit: Annotated[
            int | None, Query(ge=0, description="List at most this many events")
        ] = None,
    ) -> dict[str, Any]:
        """Opens and clicks split by verdict, the honest sentence, and the events with
        their verdicts, agents, reasons and history. ``message`` is the Message-ID header
        value or Inkling's id."""
        del caller  # any user may read any message; the dependency checked the key
        try:
            return read_message(store, message, limit=limit, user_agents=user_agents).as_json()
        except UnknownMessage as exc:
            raise HTTPException(404, str(exc)) from exc
        except AmbiguousMessage as exc:  # sent as one copy per recipient: ask for one by id
            raise HTTPException(409, str(exc)) from exc

    return api
