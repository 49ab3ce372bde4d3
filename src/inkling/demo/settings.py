"""The demo's ``inkling.toml``, written into its data dir as an operator would write one:
its three teams' clocks and the help centre's prefix. ``inkling demo`` serves with it, and
other commands use it by ``INKLING_CONFIG`` (``INKLING_CONFIG=inkling-data/inkling.toml
inkling queue``): the demo lives wholly in its data dir, and leaves the working
directory's own ``inkling.toml`` alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from inkling.demo.company import HELP_CENTER, TEAMS

FILE_NAME = "inkling.toml"


def settings_text(data_dir: Path, database_url: str | None = None) -> str:
    """The file's text; ``database_url`` when the demo's store is not the data dir's
    SQLite file and the environment does not say so."""
    lines = [
        "# Written by `inkling demo`: the demo's teams and help centre, as an operator",
        "# would write them. Use it with other commands:",
        f"#   INKLING_CONFIG={_quoted(str(data_dir / FILE_NAME))} inkling queue",
        "",
        f"data_dir = {_quoted(str(data_dir.resolve()))}",
    ]
    if database_url:
        lines.append(f"database_url = {_quoted(database_url)}")
    lines += ["", "[reports]", f"help_center = [{_quoted(HELP_CENTER)}]"]
    for team in TEAMS:
        lines += ["", f"[teams.{team.name}]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in team.settings().items()]
    return "\n".join(lines) + "\n"


def write_settings(data_dir: Path, database_url: str | None = None) -> Path:
    """Write the file into ``data_dir``; returns its path."""
    path = data_dir / FILE_NAME
    path.write_text(settings_text(data_dir, database_url), encoding="utf-8")
    return path


def _quoted(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)
