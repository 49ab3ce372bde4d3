"""Finding and redacting a person's address anywhere in the database, from the live schema.

An erase removes what it knows to be the person's (their contact, tickets, messages and
events: ``store/subjects.py``), then sweeps every text column of every table the database
holds, read by reflection, not from ``schema.py``: a table or column added later is
covered without anyone remembering to add it here.

A *needle* is one spelling of what identifies the person: the address as typed and in
lowercase, with ``@`` percent-encoded (a link's query), JSON-escaped (non-ASCII kept as
``\\u`` escapes), and the SHA-256 hex of the address and of its lowercase form (what a
helpdesk or avatar service keys people by). Matching is case-insensitive; the hash of a
spelling is added for each spelling found stored (:func:`spelled`).

Two ways to match. :func:`find` with ``whole=False`` reports every value that contains a
needle anywhere: the strictest check, what the erase test asserts. Erasing and exporting
match *whole* occurrences only (``whole=True``): the needle not run into more of an
address or hash, so erasing ``bob@example.com`` leaves ``jimbob@example.com`` and
``bob@example.com.au``, other people, alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, String, Table, and_, delete, or_, select, update

from inkling.store.partitions import parse_name

#: What an erased occurrence becomes.
ERASED = "[erased]"
#: Tables whose rows are deleted, not redacted, when a value matches: a webhook payload
#: already sent or to be sent is the event itself, and an edited one would be a lie.
DELETE_ROWS = frozenset({"webhook_outbox"})
#: Alembic's own bookkeeping: never personal.
_SKIP = frozenset({"alembic_version"})

# Before a whole address: not another character of a local part (the common ones: a
# query's "email=bob@..." still matches). After: not more of its domain.
_BEFORE_ADDRESS = r"(?<![A-Za-z0-9._+\-])"
_AFTER_ADDRESS = r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Finding:
    """A value holding a needle: where (table, column, the row's primary key) and what."""

    table: str
    column: str
    key: tuple[Any, ...]
    value: str


def needles(address: str) -> list[str]:
    """Every spelling of ``address`` a sweep looks for (see the module's docstring)."""
    typed = address.strip()
    forms: list[str] = []
    for form in (typed, typed.lower()):
        forms += [form, form.replace("@", "%40"), json.dumps(form)[1:-1]]
        forms.append(hashlib.sha256(form.encode()).hexdigest())
    return list(dict.fromkeys(f.lower() for f in forms))


Tables = list[tuple[Table, list[Any]]]


def spelled(connection: Connection, address: str, tables: Tables | None = None) -> list[str]:
    """The needles of ``address`` and of every other spelling of it the database holds
    (``Ana@Example.com`` stored where ``ana@example.com`` was asked for): a SHA-256 of the
    address as someone else wrote it is only found through that spelling."""
    asked = needles(address)
    plain = [n for n in asked if not _HEX.fullmatch(n)]
    pattern = _pattern(plain, whole=True)
    seen = {address.strip()}
    for table, columns in text_columns(connection) if tables is None else tables:
        for row in _candidates(connection, table, columns, plain):
            for column in columns:
                value = row[column.name]
                if isinstance(value, str):
                    seen |= {m.replace("%40", "@") for m in pattern.findall(value)}
    return list(dict.fromkeys(n for form in sorted(seen) for n in needles(form)))


def find(
    connection: Connection, wanted: Sequence[str], *, whole: bool, tables: Tables | None = None
) -> list[Finding]:
    """Every value of every text column that holds one of ``wanted``."""
    found: list[Finding] = []
    pattern = _pattern(wanted, whole=whole)
    for table, columns in text_columns(connection) if tables is None else tables:
        for row in _candidates(connection, table, columns, wanted):
            key = _key(table, row)
            for column in columns:
                value = row[column.name]
                if isinstance(value, str) and pattern.search(value):
                    found.append(Finding(table.name, column.name, key, value))
    return found


def redact(
    connection: Connection, wanted: Sequence[str], tables: Tables | None = None
) -> dict[str, int]:
    """Replace every whole occurrence of ``wanted`` by ``[erased]``, or delete the row
    where a primary-key value holds one (the row *is* the person's) or its table is in
    ``DELETE_ROWS``; the rows changed or deleted, by table.

    A redaction a unique constraint refuses raises StoreConflict (through the caller's
    transaction: nothing is changed)."""
    pattern = _pattern(wanted, whole=True)
    done: dict[str, int] = {}
    for table, columns in text_columns(connection) if tables is None else tables:
        keys = [c.name for c in table.primary_key.columns]
        for row in _candidates(connection, table, columns, wanted):
            changed = {
                c.name: pattern.sub(ERASED, row[c.name])
                for c in columns
                if isinstance(row[c.name], str) and pattern.search(row[c.name])
            }
            if not changed:
                continue
            where = _where(table, row, keys or list(changed))
            if table.name in DELETE_ROWS or set(changed) & set(keys):
                connection.execute(delete(table).where(where))
            else:
                connection.execute(update(table).where(where).values(**changed))
            done[table.name] = done.get(table.name, 0) + 1
    return done


def text_columns(connection: Connection) -> Tables:
    """Each table of the live database with its text columns (those it has any), read
    from the database itself."""
    reflected = MetaData()
    # a month's partition of events is read through events itself (store/partitions.py)
    reflected.reflect(bind=connection, only=lambda name, _: parse_name(name) is None)
    tables = []
    for table in reflected.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String)]
        if columns and table.name not in _SKIP:
            tables.append((table, columns))
    return tables


def _candidates(
    connection: Connection, table: Table, columns: Sequence[Any], wanted: Iterable[str]
) -> list[Any]:
    """The rows with a needle somewhere in a text column, found by the database (one pass
    over the table); whether it is a whole occurrence is decided in Python."""
    tests = [c.ilike(f"%{_escape(n)}%", escape="\\") for c in columns for n in wanted]
    query = select(table).where(or_(*tests))
    return [row._mapping for row in connection.execute(query)]


def _pattern(wanted: Sequence[str], *, whole: bool) -> re.Pattern[str]:
    parts = []
    for needle in wanted:
        escaped = re.escape(needle)
        if not whole:
            parts.append(escaped)
        elif _HEX.fullmatch(needle):
            parts.append(f"(?<![0-9a-fA-F]){escaped}(?![0-9a-fA-F])")
        else:
            parts.append(f"{_BEFORE_ADDRESS}{escaped}{_AFTER_ADDRESS}")
    # Longest first: the JSON-escaped or encoded spelling wins over a shorter one inside it.
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), re.IGNORECASE)


def _escape(needle: str) -> str:
    """``needle`` for a LIKE pattern: its own % and _ taken literally."""
    return needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: Tables whose rows are named by fewer columns than their primary key: on PostgreSQL the
#: key of events holds its partition key too (store/partitions.py), but the id alone names
#: an event.
_NAMED_BY = {"events": ("id",)}


def _key(table: Table, row: Any) -> tuple[Any, ...]:
    names = _NAMED_BY.get(table.name) or [c.name for c in table.primary_key.columns]
    return tuple(row[name] for name in names)


def _where(table: Table, row: Any, names: Sequence[str]) -> Any:
    """The row by its primary key, or (a table without one) by the values it had."""
    return and_(*(table.c[name] == row[name] for name in names))
