"""``inkling tickets import``: ticket upserts, one JSON object a line.

A bad line is reported with its number and what was wrong, and costs nothing else: the
good lines around it are stored. Lines are stored in batches, each in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from inkling.errors import TicketError
from inkling.model import Ticket
from inkling.store import Store
from inkling.tickets.upsert import parse_ticket

BATCH = 500


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    error: str


@dataclass(slots=True)
class ImportResult:
    stored: int = 0
    older: int = 0  # an update older than the stored one: ignored, as the contract says
    bad: list[BadLine] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return self.stored + self.older + len(self.bad)


def import_tickets(
    store: Store, lines: Iterable[bytes], *, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Store every good line of ``lines`` (JSON objects, blank lines skipped)."""
    result = ImportResult()
    for batch in _batches(_parsed(lines, result)):
        answers = store.tickets.upsert_all(batch)
        result.stored += sum(answers)
        result.older += len(answers) - sum(answers)
        if progress is not None:
            progress(len(batch))
    return result


def _parsed(lines: Iterable[bytes], result: ImportResult) -> Iterator[Ticket]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            yield parse_ticket(_json(raw))
        except TicketError as exc:
            result.bad.append(BadLine(number, str(exc)))


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise TicketError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise TicketError(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError as exc:
        raise TicketError("not JSON: nested too deeply") from exc


def _batches(tickets: Iterable[Ticket]) -> Iterator[list[Ticket]]:
    batch: list[Ticket] = []
    for ticket in tickets:
        batch.append(ticket)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
