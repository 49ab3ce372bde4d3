"""The helpdesks' tables (``helpdesks.toml``): where each one keeps a ticket's fields in its
webhook payload, its status and priority words, and how it signs.

The tables are data so that a helpdesk renaming a field, or a new status word, is a change
of one line with its source beside it, not of code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

HELPDESKS = ("zendesk", "freshdesk", "helpscout", "freescout", "zammad")
TOKEN_PLACES = frozenset({"header", "basic", "query"})


@dataclass(frozen=True, slots=True)
class Signing:
    """How a helpdesk signs a payload: an HMAC of (timestamp +) body, written in a header."""

    header: str
    digest: str  # a hashlib name: "sha1", "sha256"
    encoding: str  # "base64" or "hex"
    prefix: str = ""  # written before the digest ("sha1=")
    timestamp_header: str = ""  # signed in front of the body when set


@dataclass(frozen=True, slots=True)
class Helpdesk:
    """One helpdesk's table."""

    name: str
    source: str
    fields: Mapping[str, tuple[str, ...]]
    extra: Mapping[str, tuple[str, ...]]
    statuses: Mapping[str, str]
    priorities: Mapping[str, str]
    priority_tags: Mapping[str, str]
    tags_split: str
    signing: Signing | None
    token_in: frozenset[str]
    event_header: str = ""
    events_mapped: tuple[str, ...] = ()
    events_ignored: tuple[str, ...] = ()


@cache
def helpdesk(name: str) -> Helpdesk:
    """The table of ``name`` (one of :data:`HELPDESKS`); KeyError for another name."""
    return _tables()[name]


@cache
def _tables() -> Mapping[str, Helpdesk]:
    raw = tomllib.loads(files("inkling.tickets").joinpath("helpdesks.toml").read_text("utf-8"))
    return MappingProxyType({name: _helpdesk(name, raw[name]) for name in HELPDESKS})


def _helpdesk(name: str, table: dict[str, Any]) -> Helpdesk:
    signature = table.get("signature")
    token_in = frozenset(table["tokens"]["token_in"])
    assert token_in <= TOKEN_PLACES, f"{name}: token_in must be among {sorted(TOKEN_PLACES)}"
    assert table["tags_split"] in ("space", "comma"), f"{name}: tags_split"
    return Helpdesk(
        name=name,
        source=table["source"],
        fields=_paths(table["fields"]),
        extra=_paths(table["extra"]),
        statuses=_words(table["statuses"]),
        priorities=_words(table["priorities"]),
        priority_tags=_words(table["priority_tags"]),
        tags_split=table["tags_split"],
        signing=Signing(**signature) if signature else None,
        token_in=token_in,
        event_header=table.get("event_header", ""),
        events_mapped=tuple(table.get("events_mapped", ())),
        events_ignored=tuple(table.get("events_ignored", ())),
    )


def _paths(table: dict[str, list[str]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({name: tuple(paths) for name, paths in table.items()})


def _words(table: dict[str, str]) -> Mapping[str, str]:
    """A vocabulary keyed in lower case, as payload words are looked up."""
    return MappingProxyType({str(word).lower(): value for word, value in table.items()})
