"""What an events import asks of the database, a batch at a time.

An import attaches thousands of lines to their copies: asking for each copy, its links and
whether its event is stored already, one query a line, would cost more than judging and
storing them. These look up a whole batch in a few queries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ARRAY, Column, Connection, Table, Text, any_, bindparam, insert, select

from inkling.errors import DuplicateMessage, StoreConflict
from inkling.model import EventId, InklingId, MessageRecord
from inkling.store.engine import Database, chunks
from inkling.store.messages import _record, _row
from inkling.store.schema import events, links, messages

#: Keys a query names at most (SQLite allows 32,766 parameters; PostgreSQL more).
_CHUNK = 2000
_INKLING_ID = re.compile("[0-9a-f]{20}")


class Imports:
    """Batch look-ups for ``providers.Importer``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def copies(self, keys: Iterable[str]) -> dict[str, list[MessageRecord]]:
        """The copies each key names, oldest first: a key is an Inkling id or a Message-ID
        with or without its angle brackets. A key that names nothing is left out."""
        wanted = {k.strip() for k in keys if k.strip()}
        by_id: dict[str, MessageRecord] = {}
        by_header: dict[str, list[MessageRecord]] = {}
        ids = sorted(k for k in wanted if _INKLING_ID.fullmatch(k))
        headers = sorted({f"<{k.strip('<>')}>" for k in wanted} | wanted)
        # Two look-ups, each by its own index (an OR of both would scan the table).
        for column, keys in ((messages.c.id, ids), (messages.c.message_id, headers)):
            for chunk in chunks(keys, _CHUNK):
                query = select(messages).where(_among(column, chunk, self._db.dialect))
                with self._db.connect() as connection:
                    for row in connection.execute(query):
                        record = _record(row._mapping)
                        by_id[record.id] = record
                        by_header.setdefault(record.message_id.strip("<>"), []).append(record)
        found: dict[str, list[MessageRecord]] = {}
        for key in wanted:
            if key in by_id:
                found[key] = [by_id[key]]
            elif key.strip("<>") in by_header:
                copies = _unique(by_header[key.strip("<>")])
                found[key] = sorted(copies, key=lambda r: (r.sent_at, r.id))
        return found

    def register(self, copies: Sequence[tuple[MessageRecord, Sequence[str]]]) -> None:
        """Store copies and their links in one transaction, all or none, as
        ``Messages.register_all`` does but a table at a time (one statement for thousands
        of copies, not two for each); DuplicateMessage if any is registered already."""
        if not copies:
            return
        rows = [_row(record) for record, _ in copies]
        urls = [
            {"message": record.id, "idx": i, "url": url}
            for record, link_urls in copies
            for i, url in enumerate(link_urls)
        ]
        try:
            with self._db.begin() as connection:
                _insert_all(connection, messages, rows)
                if urls:
                    _insert_all(connection, links, urls)
        except StoreConflict as exc:
            raise DuplicateMessage(f"{len(copies)} copies: one is registered already") from exc

    def links(self, copies: Iterable[InklingId]) -> dict[InklingId, list[str]]:
        """The tracked links of each copy, by index."""
        found: dict[InklingId, list[str]] = {}
        for chunk in chunks(sorted(set(copies)), _CHUNK):
            query = (
                select(links.c.message, links.c.url)
                .where(_among(links.c.message, chunk, self._db.dialect))
                .order_by(links.c.message, links.c.idx)
            )
            with self._db.connect() as connection:
                for row in connection.execute(query):
                    found.setdefault(InklingId(row.message), []).append(row.url)
        return found

    def stored(self, ids: Iterable[EventId]) -> set[EventId]:
        """Which of these event ids are stored already."""
        found: set[EventId] = set()
        for chunk in chunks(sorted(set(ids)), _CHUNK):
            query = select(events.c.id).where(_among(events.c.id, chunk, self._db.dialect))
            with self._db.connect() as connection:
                found.update(EventId(row.id) for row in connection.execute(query))
        return found


def _among(column: Column[Any], values: Sequence[str], dialect: str) -> Any:
    """``column`` is one of ``values``: on PostgreSQL one array parameter (``= ANY``),
    which it parses and plans far faster than thousands of separate ones."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(Text)))
    return column.in_(values)


def _insert_all(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows into ``table``: by ``COPY`` on PostgreSQL (one stream, as the journal's events
    go), else one multi-row statement."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row[name] for name in names))
    finally:
        cursor.close()


def _unique(records: list[MessageRecord]) -> list[MessageRecord]:
    """Each copy once (a Message-ID stored both with and without brackets is one header)."""
    return list({r.id: r for r in records}.values())
