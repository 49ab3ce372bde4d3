"""Teams: each one's business-hours clock and playbook thresholds.

A ticket with no team, or one not configured, uses ``default`` (built in: UTC, Monday to
Friday, 09:00-17:00, no holidays, the contract's thresholds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from inkling.playbook.calendar import BusinessCalendar

DEFAULT_TEAM = "default"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When each action becomes right (``[playbook]``, ``[teams.NAME.playbook]``)."""

    hold_hours: float = 4  # business hours after a person's click before a nudge is right
    nudge_after_days: float = 2  # business days without a sign of a person (low, normal)
    escalate_after_days: float = 1  # business days without a sign of a person (high, urgent)
    simplify_opens: int = 3  # a person's opens on separate occasions, no click, no reply
    quiet_after_days: float = 3  # business days after a person's click with no further contact


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    thresholds: Thresholds = field(default_factory=Thresholds)


class TeamBook:
    """The configured teams, and the default for every other ticket."""

    def __init__(self, teams: Mapping[str, Team] | None = None) -> None:
        self._teams = dict(teams or {})
        self._teams.setdefault(DEFAULT_TEAM, Team(DEFAULT_TEAM))

    def team(self, name: str | None) -> Team:
        """The team called ``name``, or ``default`` for none or an unknown one."""
        if name is not None and name in self._teams:
            return self._teams[name]
        return self._teams[DEFAULT_TEAM]

    @property
    def names(self) -> list[str]:
        return sorted(self._teams)
