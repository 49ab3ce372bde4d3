"""The ``inkling`` command: each command in the module of its concern, each building only
what it uses through the composition root (``inkling.root``)."""

from __future__ import annotations

from inkling.cli.app import app, main

__all__ = ["app", "main"]
