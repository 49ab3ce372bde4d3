"""The Settings page (stub: built out in issue 11)."""

from __future__ import annotations

from dataclasses import dataclass

from inkling.api.access import Principal
from inkling.web.sources import Sources


@dataclass(frozen=True, slots=True)
class SettingsPage:
    viewer: Principal


def settings_page(sources: Sources, principal: Principal) -> SettingsPage:
    del sources
    return SettingsPage(principal)
