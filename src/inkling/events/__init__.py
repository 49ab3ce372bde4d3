"""Events: what the tracker saw, and the recorder that makes them durable."""

from inkling.events.model import Event, EventKind

__all__ = ["Event", "EventKind"]
