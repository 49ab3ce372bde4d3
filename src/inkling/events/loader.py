"""The loader: moves the journal into the database in large batches, judging on the way.

It runs on a thread of its own and takes what the tracker appended, a few thousand hits at
a time: decodes them, has the judge give each a verdict (and re-judge earlier hits of the
same messages), and writes them with the journal's progress in one transaction. Then it
removes the segments it has moved completely. While the database is away it waits, backing
off, and catches up when it returns, whether the node ran on meanwhile or was restarted:
the progress kept in the database says where to go on, so every hit is loaded exactly once.

Verdicts lag a hit by the time until the loader's next pass: at most ``interval`` when the
node is idle, and one batch's load time under load. Until then the hit is not in the
database at all, so no reading counts it, let alone as a person's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol

from inkling.errors import StoreError, StoreUnavailable, TokenError
from inkling.events.journal import Frame, JournalWriter, Segment, read_frames, segments
from inkling.model import (
    UNCHECKED_OPEN,
    Agent,
    Event,
    EventId,
    EventKind,
    InklingId,
    Verdict,
    VerdictChange,
)
from inkling.store import EventLoader, Events, SegmentProgress
from inkling.tokens import TokenCodec

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.1
#: Hits a pass loads at most. Smaller batches interleave better with the tracker on one
#: core (measured p99 at saturation: 26.6 ms at 1,024, 29-44 ms at 4,096); larger ones
#: cost a little less a hit.
DEFAULT_BATCH = 1024
MAX_BACKOFF = 5.0
#: An idle loader checks the database answers this often, so /readyz stays true.
PING_SECONDS = 5.0
#: How long stopping keeps loading what is left, if the database answers.
DEFAULT_DRAIN_SECONDS = 10.0
_KINDS = {kind.value: kind for kind in EventKind}
#: Longer header values are cut: enough to recognise any client, and a bound on what a
#: request can make Inkling store.
MAX_HEADER_VALUE = 512
_VERDICT_AND_AGENT = attrgetter("verdict", "agent")


class Judged(Protocol):
    """A batch judged: the verdict changes of earlier events, and ``commit()`` to be
    called once the batch is stored (so a failed load can be judged again from scratch)."""

    @property
    def changes(self) -> Sequence[VerdictChange]: ...

    def commit(self) -> None: ...


class Judge(Protocol):
    def judge(self, batch: Sequence[Event], now: float) -> Judged: ...


@dataclass
class LoaderStatus:
    """What the loader knows, for ``/readyz``, ``/metrics`` and ``inkling status``."""

    database_reachable: bool | None = None  # None: not tried yet
    database_error: str | None = None
    loaded: int = 0  # hits loaded since start
    #: hits not loaded in segments the writer is done with (see Loader.backlog_events)
    sealed_backlog: int = 0
    backlog_bytes: int = 0
    oldest_ts: float | None = None  # the oldest hit not loaded yet
    last_lag_s: float | None = None  # hit to stored verdict, for the last batch loaded
    segments: int = 0
    judge_errors: int = 0
    #: hits loaded since start by the verdict and agent they were stored with (replaced,
    #: not changed, once a batch: a scrape on another thread always reads a whole one)
    verdicts: dict[tuple[Verdict, Agent | None], int] = field(default_factory=dict)
    #: segment id -> hits it holds, as far as read
    _totals: dict[str, int] = field(default_factory=dict)


class Loader:
    """Moves the journal of ``writer`` into ``events``; see the module docstring."""

    def __init__(
        self,
        writer: JournalWriter,
        events: Events,
        judge: Judge | None,
        codec: TokenCodec,
        *,
        interval: float = DEFAULT_INTERVAL,
        batch: int = DEFAULT_BATCH,
        drain_seconds: float = DEFAULT_DRAIN_SECONDS,
        retention_seconds: float | None = None,
        batch_seconds: Callable[[float], None] | None = None,
    ) -> None:
        """``retention_seconds``: a hit on mail sent longer ago than this is not recorded
        (its events have expired: the link still redirects, only the recording stops).
        ``batch_seconds`` is told how long each batch took, from reading the journal to
        stored (``/metrics``)."""
        self._writer = writer
        self._retention = retention_seconds
        self._directory = writer.directory
        self._events = events
        self._judge = judge
        self._codec = codec  # pixel hits' tokens are checked here
        self._interval = interval
        self._batch = batch
        self._drain_seconds = drain_seconds
        self._batch_seconds = batch_seconds
        self._progress: dict[str, SegmentProgress] | None = None
        self._known: dict[str, SegmentProgress] = {}  # the last progress read, for status
        self._store: EventLoader | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inkling-loader", daemon=True)
        self._failures = 0
        self._contact = 0.0  # when the database last answered (monotonic)
        self.status = LoaderStatus()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Load what is left (for up to ``drain_seconds``, if the database answers), then
        stop. What is not loaded stays in the journal for the next start."""
        self._stop.set()
        self._thread.join()

    def backlog_events(self) -> int:
        """Hits recorded but not loaded yet, as of now (the writer's segment is counted
        live: a hit answered a moment ago counts at once)."""
        active = self._writer.segment
        backlog = self.status.sealed_backlog
        if active is not None:
            progress = self._progress if self._progress is not None else self._known
            loaded = progress.get(active.id)
            backlog += max(0, self._writer.next_index - (loaded.next_index if loaded else 0))
        return backlog

    def run_once(self) -> int:
        """One pass on the calling thread (tests); the hits loaded. Call :meth:`close`
        after the last."""
        return self._pass()

    def close(self) -> None:
        """Give back the database connection the loader keeps between batches."""
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- on the loader's thread -----------------------------------------------------------

    def _run(self) -> None:
        deadline: float | None = None
        while True:
            stopping = self._stop.is_set()
            if stopping and deadline is None:
                deadline = time.monotonic() + self._drain_seconds
            loaded = self._safe_pass()
            if stopping and (not loaded or time.monotonic() >= (deadline or 0)):
                break
            if not loaded:
                self._stop.wait(self._wait())
        self.close()

    def _safe_pass(self) -> int:
        try:
            loaded = self._pass()
        except StoreUnavailable as exc:
            self._unreachable(exc)
            self._update_status(segments(self._directory))  # the backlog grows meanwhile
            return 0
        except StoreError as exc:
            self._failures += 1
            log.error("the loader cannot store events: %s", exc)
            return 0
        except Exception:  # a bug here must not stop loading for good
            self._failures += 1
            log.exception("the loader failed; trying again")
            return 0
        if self.status.database_reachable is False:
            log.info("the database is back; loading the journal")
        self.status.database_reachable, self.status.database_error = True, None
        self._failures = 0
        return loaded

    def _pass(self) -> int:
        began = time.perf_counter()
        if self._progress is None:
            self._progress = self._events.progress()
            self._contact = time.monotonic()
        found = segments(self._directory)
        batch: list[Event] = []
        moved: list[SegmentProgress] = []
        done: list[Segment] = []
        for segment in found:
            if len(batch) >= self._batch:
                break
            start = self._progress.get(segment.id)
            frames = list(
                read_frames(
                    segment, start.position if start else 0, max_records=self._batch - len(batch)
                )
            )
            if frames:
                batch.extend(_decode(segment, frames, self._codec, self._cutoff()))
                last = frames[-1]
                moved.append(
                    SegmentProgress(segment.id, last.end, last.first_index + len(last.records))
                )
            elif self._writer.sealed(segment):
                done.append(segment)
        if moved:  # also when every hit read was dropped: its progress must be kept
            self._load(batch, moved)
            self._contact = time.monotonic()
            if batch and self._batch_seconds is not None:
                self._batch_seconds(time.perf_counter() - began)
        for segment in done:
            self._remove(segment)
        self._update_status(found)
        if time.monotonic() - self._contact >= PING_SECONDS:
            self._events.ping()  # nothing to load: check the database answers all the same
            self._contact = time.monotonic()
        return len(batch)

    def _cutoff(self) -> float:
        """Hits on mail sent before this are not recorded (0: every hit is)."""
        return 0.0 if self._retention is None else time.time() - self._retention

    def _load(self, batch: list[Event], moved: list[SegmentProgress]) -> None:
        now = time.time()
        judged = self._judged(batch, now)
        if self._store is None:
            self._store = self._events.loader()
        self._store.load(batch, judged.changes if judged else (), moved)
        if judged is not None:
            judged.commit()
        assert self._progress is not None
        for progress in moved:
            self._progress[progress.segment] = progress
            self._writer.mark_loaded(progress.segment, progress.position)
        self.status.loaded += len(batch)
        if batch:
            self.status.last_lag_s = max(0.0, time.time() - min(e.ts for e in batch))
            self._count_verdicts(batch)

    def _count_verdicts(self, batch: list[Event]) -> None:
        """Add the batch's verdicts to the status's (counted in C, once a batch)."""
        verdicts = dict(self.status.verdicts)
        for key, count in Counter(map(_VERDICT_AND_AGENT, batch)).items():
            verdicts[key] = verdicts.get(key, 0) + count
        self.status.verdicts = verdicts

    def _judged(self, batch: list[Event], now: float) -> Judged | None:
        if self._judge is None:
            return None
        try:
            return self._judge.judge(batch, now)
        except Exception:  # a classifier bug must never cost a hit: keep it, unjudged
            self.status.judge_errors += 1
            log.exception("could not judge %d hits; they stay unknown", len(batch))
            return None

    def _remove(self, segment: Segment) -> None:
        try:
            segment.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.error("cannot remove the loaded journal segment %s: %s", segment.path, exc)
            return
        self.status._totals.pop(segment.id, None)

    def _unreachable(self, exc: StoreUnavailable) -> None:
        self._failures += 1
        if self.status.database_reachable is not False:
            log.warning("the database is unavailable; hits wait in the journal: %s", exc)
        self.status.database_reachable, self.status.database_error = False, str(exc)
        if self._progress is not None:
            self._known = self._progress  # what status counts from while away
        self._progress = None  # read it again when the database is back
        if self._store is not None:
            self._store.close()
            self._store = None

    def _wait(self) -> float:
        if self._failures:
            return float(min(MAX_BACKOFF, self._interval * 2 ** min(self._failures, 10)))
        return self._interval

    def _update_status(self, found: list[Segment]) -> None:
        progress = self._progress if self._progress is not None else self._known
        active = self._writer.segment
        sealed = backlog_bytes = 0
        for segment in found:
            start = progress.get(segment.id)
            position = start.position if start else 0
            try:
                size = segment.path.stat().st_size
            except FileNotFoundError:
                continue
            backlog_bytes += max(0, size - max(position, 16))
            if active is None or segment.id != active.id:
                sealed += max(0, self._total(segment) - (start.next_index if start else 0))
        status = self.status
        status.sealed_backlog, status.backlog_bytes = sealed, backlog_bytes
        status.segments = len(found)
        status.oldest_ts = self._oldest(found, progress) if backlog_bytes else None

    def _total(self, segment: Segment) -> int:
        """How many hits a segment the writer is done with holds (read once)."""
        known = self.status._totals.get(segment.id)
        if known is None:
            known = 0
            for frame in read_frames(segment, 0, max_records=1 << 62):
                known = frame.first_index + len(frame.records)
            self.status._totals[segment.id] = known
        return known

    def _oldest(self, found: list[Segment], progress: dict[str, SegmentProgress]) -> float | None:
        for segment in found:
            start = progress.get(segment.id)
            for frame in read_frames(segment, start.position if start else 0, max_records=1):
                return float(frame.records[0][2])
        return None


def _decode(
    segment: Segment, frames: list[Frame], codec: TokenCodec, cutoff: float = 0.0
) -> list[Event]:
    """The hits of ``frames`` as events, each with its id (segment id and index). A pixel
    hit's open token is checked here; one that fails (forged, mistyped) is dropped, as the
    tracker would have dropped it. So is a hit on mail sent before ``cutoff``: its time
    to be kept is over (retention)."""
    decoded: list[Event] = []
    append = decoded.append
    prefix = segment.id
    kinds = _KINDS
    for frame in frames:
        index = frame.first_index - 1
        for kind, message, ts, sent_at, link, method, ip, network, headers in frame.records:
            index += 1
            if kind == UNCHECKED_OPEN:
                try:
                    message, sent_at, _ = codec.decode_open(message)
                except TokenError:
                    continue
                kind = "open"
            if sent_at < cutoff:
                continue
            user_agent, evidence = _headers(headers)
            append(
                Event(
                    EventId(f"{prefix}{index:08x}"),
                    InklingId(message),
                    kinds[kind],
                    ts,
                    method,
                    sent_at,
                    link,
                    ip,
                    network,
                    user_agent,
                    evidence,
                )
            )
    return decoded


def _headers(pairs: list[tuple[bytes, bytes]]) -> tuple[str | None, dict[str, str]]:
    """The user agent and the evidence of a hit's kept headers (latin-1, as HTTP has it),
    each value cut at MAX_HEADER_VALUE bytes."""
    user_agent = None
    evidence: dict[str, str] = {}
    for name, value in pairs:
        if name == b"user-agent":
            user_agent = value[:MAX_HEADER_VALUE].decode("latin-1")
        else:
            evidence[name.decode("latin-1")] = value[:MAX_HEADER_VALUE].decode("latin-1")
    return user_agent, evidence
