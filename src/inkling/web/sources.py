"""What the dashboard's pages read, handed down by the composition root (``root.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from inkling.classify.signatures import UserAgents
from inkling.playbook.teams import TeamBook
from inkling.store import Store
from inkling.web.settings_view import SettingsView


@dataclass(frozen=True, slots=True)
class Sources:
    """The store, the teams' clocks and thresholds, the user-agent table (loaded once: it
    names the mail programs on a ticket's timeline), the clock the pages tell time by, and
    what the reports recognise."""

    store: Store
    teams: TeamBook = field(default_factory=TeamBook)
    user_agents: UserAgents = field(default_factory=UserAgents.load)
    clock: Callable[[], float] = time.time
    #: The URL prefixes of help articles (``[reports] help_center``), for the reports.
    help_center: tuple[str, ...] = ()
    #: What the Settings page shows and changes beyond the store (None: no such page).
    settings: SettingsView | None = None
