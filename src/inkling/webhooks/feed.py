"""The live feed's cursor: which stored signals a stream sends next, and its SSE ids.

The feed polls the store for signals by event time (``ts``), not from the outbox: it needs
no subscription, costs the loader nothing more than an index, and any number of streams
can read it. Events reach the store a little after they happen (the loader's lag, mail
fetched by the poller), so each poll looks back :data:`DEFAULT_WINDOW_SECONDS` before the
newest event sent and skips the ids it has sent already: one that arrives late within the
window still goes out, once. The SSE id is the high-water mark, ``<ts>~<event id>``; a
client that reconnects with it as ``Last-Event-ID`` gets what is newer than the mark
(an event that arrived late at the very moment it was away can be missed: the feed is for
watching; webhooks are the channel that loses nothing). Without one, a stream starts now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from inkling.store.webhooks import StoredEvent

DEFAULT_WINDOW_SECONDS = 15.0
_SEPARATOR = "~"


class FeedCursor:
    """Where one stream is: the newest (ts, id) sent and the ids sent within the window."""

    def __init__(self, after: tuple[float, str], *, window: float = DEFAULT_WINDOW_SECONDS):
        self._floor = after  # never anything at or before this (the start, or a resume)
        self._mark = after
        self._window = window
        self._seen: dict[str, float] = {}

    @classmethod
    def resume(
        cls, last_event_id: str | None, now: float, *, window: float = DEFAULT_WINDOW_SECONDS
    ) -> FeedCursor:
        """The cursor after ``last_event_id`` (as this feed wrote it), else from ``now``:
        an id that is not one of the feed's starts the stream now, as none would."""
        after = _parse(last_event_id) if last_event_id else None
        return cls(after or (now, ""), window=window)

    @property
    def since(self) -> float:
        """The earliest ``ts`` the next poll asks for."""
        return max(self._floor[0], self._mark[0] - self._window)

    @property
    def last_event_id(self) -> str:
        return f"{self._mark[0]!r}{_SEPARATOR}{self._mark[1]}"

    def take(self, found: Sequence[StoredEvent]) -> list[tuple[StoredEvent, str]]:
        """Of a poll's events, those to send, in order, each with its SSE id (the mark
        once it is sent); the cursor moves past them."""
        fresh = []
        for event in found:
            key = (event.ts, event.id)
            if key <= self._floor or event.id in self._seen:
                continue
            self._seen[event.id] = event.ts
            self._mark = max(self._mark, key)
            fresh.append((event, self.last_event_id))
        edge = self._mark[0] - self._window
        self._seen = {i: ts for i, ts in self._seen.items() if ts >= edge}
        return fresh


def _parse(text: str) -> tuple[float, str] | None:
    ts_text, separator, ident = text.strip().partition(_SEPARATOR)
    if not separator:
        return None
    try:
        ts = float(ts_text)
    except ValueError:
        return None
    return (ts, ident) if math.isfinite(ts) else None
