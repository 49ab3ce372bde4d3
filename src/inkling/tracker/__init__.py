"""The tracker: pixel and redirect endpoints, the hot path of Inkling."""

from inkling.tracker.app import TRANSPARENT_GIF, Tracker
from inkling.tracker.client import ClientAddress

__all__ = ["TRANSPARENT_GIF", "ClientAddress", "Tracker"]
