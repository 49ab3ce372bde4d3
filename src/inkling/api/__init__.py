"""The JSON API (``/api/v1``): readings for helpdesks and scripts, behind API keys."""

from inkling.api.app import build_api
from inkling.api.keys import ApiKeys

__all__ = ["ApiKeys", "build_api"]
