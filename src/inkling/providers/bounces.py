"""What an imported bounce means: its reason, class, owner and finality, from what its line
gives and, for the rest, from the tables in ``bounces.toml``.

A line may say everything (``class``, ``final``, ``owner``) or only a status code; what it
gives wins, and what it leaves out is derived the same way for every provider.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

UNDEFINED = "undefined"
CLASSES = ("hard", "soft")
OWNERS = ("agent", "customer", "sender", "transient")


@dataclass(frozen=True, slots=True)
class BounceFacts:
    """A bounce as DESIGN.md's ``bounce`` table has it."""

    status: str
    reason: str
    bounce_class: str
    final: bool
    owner: str

    def as_details(self) -> dict[str, str]:
        return {
            "status": self.status,
            "reason": self.reason,
            "class": self.bounce_class,
            "final": "true" if self.final else "false",
            "owner": self.owner,
        }


@dataclass(frozen=True, slots=True)
class _Tables:
    status: dict[str, str]
    reasons: dict[str, dict[str, str]]


@cache
def _tables() -> _Tables:
    text = resources.files("inkling.providers").joinpath("bounces.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return _Tables(status=data["status"], reasons=data["reasons"])


def known_reason(reason: str) -> bool:
    return reason in _tables().reasons


def reason_of_status(status: str) -> str:
    """The reason an RFC 3463 code names (``5.1.1``: userunknown), else ``undefined``."""
    table = _tables().status
    exact = table.get(status)
    if exact is not None:
        return exact
    return table.get(status.rpartition(".")[0], UNDEFINED) if status.count(".") == 2 else UNDEFINED


def bounce_facts(
    *,
    status: str | None,
    reason: str | None,
    bounce_class: str | None,
    final: bool | None,
    owner: str | None,
) -> BounceFacts:
    """A bounce's facts: those given, and the rest derived (a 4.x.x status is not final;
    ``notaccept`` is hard only when final, as DESIGN.md says)."""
    code = status or ""
    why = reason or (reason_of_status(code) if code else UNDEFINED)
    is_final = final if final is not None else not code.startswith("4")
    row = _tables().reasons.get(why, _tables().reasons[UNDEFINED])
    derived_class = row["class"]
    if why == "notaccept" and not is_final:
        derived_class = "soft"
    return BounceFacts(
        status=code,
        reason=why,
        bounce_class=bounce_class or derived_class,
        final=is_final,
        owner=owner or row["owner"],
    )
