"""What the Settings page reads beyond the store, handed down by the composition root:
the settings' workflows, rules and thresholds as plain values (the web layer never reads
the settings), the opt-out book and the webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field

from inkling.playbook.teams import Thresholds
from inkling.relay.workflows import Workflows
from inkling.store.optouts import OptOutBook
from inkling.store.webhooks import Webhooks


@dataclass(frozen=True, slots=True)
class SettingsView:
    #: The workflows' policies and rules: the very object the copies are made with, so a
    #: change on the page reaches this node's next message at once.
    workflows: Workflows
    #: Opt-outs by address or domain (the same book as ``inkling optout`` and the API).
    optouts: OptOutBook
    webhooks: Webhooks
    #: The ``[playbook]`` thresholds every team has unless it sets its own.
    playbook: Thresholds = field(default_factory=Thresholds)
    #: The teams ``inkling.toml`` names (``[teams.NAME]``); ``default`` is built in otherwise.
    configured_teams: tuple[str, ...] = ()
