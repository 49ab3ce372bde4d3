"""What the API's refusals look like, for the OpenAPI spec: ``{"detail": ...}``.

A refusal a route words itself (``HTTPException``) is one line; a request that FastAPI (or
``api/intake.py``) finds malformed lists what is wrong where, in FastAPI's shape. A 422 may
be either, so the schema declared for it says both, and a client generated from the spec
reads every 422 it gets. FastAPI answers 400 (not 422) to a body it cannot decode (not
UTF-8): routes whose body FastAPI reads declare that too.
"""

from typing import Any

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    """One thing wrong, where: ``["query", "limit"]``, ``["body", "to", 0]``."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    detail: str | list[FieldProblem] = Field(
        description="One line saying what is wrong, or each field that is wrong"
    )


def unprocessable(description: str) -> dict[int | str, dict[str, Any]]:
    """A route's 422, as it is answered: one line, or FastAPI's list of fields."""
    return {422: {"description": description, "model": Problem}}


#: The 400 of a route whose body FastAPI decodes.
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be decoded (not UTF-8)", "model": Problem}
}
