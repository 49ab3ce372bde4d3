"""Events recorded elsewhere, stored as if Inkling had seen them: the import's one pipeline.

``inkling events import``, ``POST /api/v1/events`` and the provider webhooks all end here.
Lines come in already read (``reading.py``); the importer

1. registers the ``sent`` lines' copies (a copy registered already is a duplicate);
2. attaches every other line to its copy, by Message-ID or Inkling id (and, when a
   Message-ID went out as several copies, by the line's recipient);
3. makes hits into events exactly as the tracker does: the whole address looked up in the
   published networks, then only its truncation kept; and judges them with the loader's
   :class:`BatchJudge`, a message's hits in time order;
4. stores them in batches with the judge's verdict changes.

Every event's id comes from the provider's event id, or from the line itself, so importing
the same file or payload twice records each event once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from inkling.classify.batch import BatchJudge
from inkling.classify.classifier import Classifier
from inkling.errors import DuplicateMessage, IntakeError
from inkling.model import (
    HIT_KINDS,
    Event,
    EventId,
    EventKind,
    MessageIdHeader,
    MessageRecord,
)
from inkling.privacy.ip import truncate_ip
from inkling.providers.judgements import judge_mail
from inkling.providers.lines import EventLine, SentLine
from inkling.store import EventLoader, Store
from inkling.tokens import new_message_id
from inkling.tracker.app import EVIDENCE_HEADERS

#: Lines judged and stored together. Larger batches cost a little less a line; this keeps
#: one batch's memory and transaction small.
BATCH = 4096
#: The evidence key of a provider's own machine flag (SendGrid's ``sg_machine_open``,
#: Mailgun's ``client-info.bot``), kept beside the request headers.
PROVIDER_BOT = "x-provider-bot"

#: The request headers kept as a hit's evidence, as the tracker keeps them: nothing else
#: (no cookie, no X-Forwarded-For, which holds whole addresses).
KEPT_HEADERS = frozenset(name.decode() for name in EVIDENCE_HEADERS)
#: What may be an IP address inside a payload's text (checked before it is replaced).
_ADDRESS = re.compile(
    r"(?<![\w.:])"
    r"(?:\d{1,3}(?:\.\d{1,3}){3}"  # IPv4
    r"|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:\.\d{1,3}){3})?)"  # IPv6, ::ffff:1.2.3.4
    r"(?![\w.:])"
)

#: A read line: its number, and what it was (None: an event Inkling keeps no record of).
Item = tuple[int, SentLine | EventLine | IntakeError | None]


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    error: str


@dataclass(slots=True)
class ImportResult:
    """What an import did: lines recorded, lines recorded before (skipped), lines of event
    types Inkling keeps no record of, and the bad lines with what was wrong."""

    imported: int = 0
    duplicates: int = 0
    ignored: int = 0
    bad: list[BadLine] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "ignored": self.ignored,
            "bad": [{"line": b.line, "error": b.error} for b in self.bad],
        }


@dataclass(frozen=True, slots=True)
class _Pending:
    """An event line attached to its copy."""

    number: int
    line: EventLine
    copy: MessageRecord


class Importer:
    """Imports read lines into ``store``; safe to share between threads (one import at a
    time judges, so each message's hits are judged with the history of the last)."""

    def __init__(
        self,
        store: Store,
        classifier: Classifier,
        *,
        keep_full_ip: bool = False,
        batch: int = BATCH,
    ) -> None:
        self._store = store
        self._networks = classifier.networks
        self._judge = BatchJudge(classifier)
        self._keep_full_ip = keep_full_ip
        self._batch = batch
        self._lock = threading.Lock()
        # An export repeats few addresses many times (a proxy's, a scanner's, a customer's)
        self._address = lru_cache(maxsize=65536)(self._look_up)

    def run(
        self, items: Iterable[Item], progress: Callable[[int], None] | None = None
    ) -> ImportResult:
        """Import ``items``; ``progress(n)`` is told of each ``n`` lines done."""
        result = ImportResult()
        sends: list[tuple[int, SentLine]] = []
        lines: list[tuple[int, EventLine]] = []
        for number, item in items:
            if isinstance(item, IntakeError):
                result.bad.append(BadLine(number, str(item)))
            elif item is None:
                result.ignored += 1
            elif isinstance(item, SentLine):
                sends.append((number, item))
            else:
                lines.append((number, item))
        with self._lock:
            self._register(sends, result)
            if progress and sends:
                progress(len(sends))
            # a message's hits together and in time order, as the judge wants them
            lines.sort(key=lambda item: (item[1].message, item[1].ts))
            loader = self._store.events.loader()  # one connection for the whole file
            try:
                for start in range(0, len(lines), self._batch):
                    chunk = lines[start : start + self._batch]
                    self._import_events(chunk, result, loader)
                    if progress:
                        progress(len(chunk))
            finally:
                loader.close()
        result.bad.sort(key=lambda b: b.line)
        return result

    # -- sends --------------------------------------------------------------------------

    def _register(self, sends: list[tuple[int, SentLine]], result: ImportResult) -> None:
        for start in range(0, len(sends), self._batch):
            chunk = sends[start : start + self._batch]
            known = self._store.imports.copies(s.message for _, s in chunk)
            seen = {(_bare(r.message_id), r.recipient) for rs in known.values() for r in rs}
            fresh: list[tuple[MessageRecord, Sequence[str]]] = []
            for _, sent in chunk:
                key = (_bare(sent.message), sent.recipient)
                if key in seen:
                    result.duplicates += 1
                    continue
                seen.add(key)
                fresh.append((_record(sent), sent.links))
            self._store_copies(fresh, result)

    def _store_copies(
        self, fresh: list[tuple[MessageRecord, Sequence[str]]], result: ImportResult
    ) -> None:
        """Register new copies a table at a time; one without a ticket the usual way, which
        reads a ticket from its subject."""
        told = [copy for copy in fresh if copy[0].ticket]
        untold = [copy for copy in fresh if not copy[0].ticket]
        for group, register in (
            (told, self._store.imports.register),
            (untold, self._store.messages.register_all),
        ):
            if not group:
                continue
            try:
                register(group)
            except DuplicateMessage:  # registered meanwhile by another import: one at a time
                for copy in group:
                    try:
                        self._store.messages.register_all([copy])
                    except DuplicateMessage:
                        result.duplicates += 1
                    else:
                        result.imported += 1
            else:
                result.imported += len(group)

    # -- events -------------------------------------------------------------------------

    def _import_events(
        self, chunk: list[tuple[int, EventLine]], result: ImportResult, loader: EventLoader
    ) -> None:
        pending = self._attach(chunk, result)
        idents = [p.line.event_id for p in pending]  # a hash each: worked out once
        stored = self._store.imports.stored(idents)
        wanted_links = [p.copy.id for p in pending if p.line.url is not None]
        links = self._store.imports.links(wanted_links) if wanted_links else {}
        hits: list[Event] = []
        mail: list[Event] = []
        taken: set[EventId] = set()
        for item, ident in zip(pending, idents, strict=True):
            if ident in stored or ident in taken:
                result.duplicates += 1
                continue
            try:
                event = self._event(item, ident, links.get(item.copy.id, ()))
            except IntakeError as exc:
                result.bad.append(BadLine(item.number, str(exc)))
                continue
            taken.add(ident)
            (hits if event.kind in HIT_KINDS else mail).append(event)
        self._store_events(hits, mail, loader)
        result.imported += len(hits) + len(mail)

    def _store_events(self, hits: list[Event], mail: list[Event], loader: EventLoader) -> None:
        if not hits and not mail:
            return
        judged = self._judge.judge(hits, time.time()) if hits else None
        loader.load([*hits, *mail], judged.changes if judged else (), ())
        if judged is not None:
            judged.commit()

    def _attach(self, chunk: list[tuple[int, EventLine]], result: ImportResult) -> list[_Pending]:
        """Each line with its copy; a line whose copy cannot be told is a bad line."""
        found = self._store.imports.copies(line.message for _, line in chunk)
        pending: list[_Pending] = []
        for number, line in chunk:
            try:
                copy = _choose(found.get(line.message.strip(), []), line)
            except IntakeError as exc:
                result.bad.append(BadLine(number, str(exc)))
            else:
                pending.append(_Pending(number, line, copy))
        return pending

    def _event(self, item: _Pending, ident: EventId, links: Sequence[str]) -> Event:
        line, copy = item.line, item.copy
        raw = line.origin.raw if self._keep_full_ip else _without_addresses(line.origin.raw)
        details = {"source": line.origin.source, "raw": raw} if raw else {"source": "inkling"}
        details |= line.details
        if line.kind not in HIT_KINDS:
            event = Event(
                id=ident,
                message=copy.id,
                kind=line.kind,
                ts=line.ts,
                method=line.origin.source.upper()[:8],
                sent_at=copy.sent_at,
                details=details,
            )
            return judge_mail(event)
        ip, network = self._address(line.ip)
        evidence = {k: v for k, v in line.headers.items() if k in KEPT_HEADERS}
        if line.origin.bot is not None:
            evidence[PROVIDER_BOT] = f"{line.origin.source}: {line.origin.bot}"
        link = _link(line, copy, links, details)
        return Event(
            id=ident,
            message=copy.id,
            kind=line.kind,
            ts=line.ts,
            method=line.method,
            sent_at=copy.sent_at,
            link=link,
            ip=ip,
            network=network,
            user_agent=line.ua[:512] if line.ua else line.ua,
            evidence=evidence,
            details=details,
        )

    def _look_up(self, ip: str | None) -> tuple[str | None, str | None]:
        """The address as it may be stored, and the published network the whole address
        is in ("" for none): looked up before truncating, as the tracker does."""
        if ip is None:
            return None, None
        stored = ip if self._keep_full_ip else truncate_ip(ip)
        if stored is None:
            raise IntakeError(f"'ip' is not an IP address: {ip[:60]!r}")
        network, _ = self._networks.locate(ip)
        return stored, network or ""


def _without_addresses(text: str) -> str:
    """``text`` (a payload) with every IP address in it truncated as stored ones are: the
    payload is kept as evidence, but not the whole address of whoever opened the mail."""
    return _ADDRESS.sub(lambda m: truncate_ip(m.group()) or m.group(), text)


def _choose(copies: list[MessageRecord], line: EventLine) -> MessageRecord:
    if line.recipient is not None:
        copies = [c for c in copies if line.recipient in c.recipients()] or [
            c for c in copies if not c.recipient
        ]
    if not copies:
        to = f" to {line.recipient}" if line.recipient else ""
        raise IntakeError(f"no message {line.message}{to}")
    if len(copies) > 1:
        raise IntakeError(
            f"{line.message} went out as {len(copies)} copies, one per recipient: "
            "give the line's 'recipient' to say which"
        )
    return copies[0]


def _link(
    line: EventLine, copy: MessageRecord, links: Sequence[str], details: dict[str, str]
) -> int | None:
    """A click's link index: ``link`` as given, or the index of ``url`` among the copy's
    links. A URL the copy was not registered with is kept in ``details`` (a provider may
    have tracked a link Inkling was not told of), with no index."""
    if line.kind is not EventKind.CLICK:
        return None
    if line.link is not None:
        if line.link >= copy.links_total:
            raise IntakeError(
                f"'link' {line.link} is past the {copy.links_total} link(s) of {line.message}"
            )
        return line.link
    if line.url is None:
        return None
    try:
        return list(links).index(line.url)
    except ValueError:
        details["url"] = line.url
        return None


def _record(sent: SentLine) -> MessageRecord:
    return MessageRecord(
        id=new_message_id(),
        message_id=MessageIdHeader(f"<{_bare(sent.message)}>"),
        workflow=sent.workflow,
        ticket=sent.ticket,
        subject=sent.subject,
        sent_at=int(sent.ts),
        links_total=len(sent.links),
        recipient=sent.recipient,
    )


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>")
