"""Mail out and what came of it: ``inkling instrument``, ``inkling reading``, ``inkling parse``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from inkling.cli.help import PlainCommand
from inkling.cli.output import dumps, fail, printable, say
from inkling.cli.serving import settings
from inkling.errors import InklingError

#: The sent time travels in every tracking token as 32 unsigned bits of epoch seconds.
LATEST_SENT_AT = 2**32 - 1


def register(app: typer.Typer) -> None:
    app.command(cls=PlainCommand)(instrument)
    app.command(cls=PlainCommand)(reading)
    app.command(cls=PlainCommand)(parse)


def instrument(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The message (.eml), or - for stdin.", allow_dash=True),
    ],
    workflow: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Workflow the message belongs to (its policy applies).",
            show_default="its X-Inkling-Workflow header, else the workflow rules",
        ),
    ] = None,
    ticket: Annotated[
        str | None,
        typer.Option(
            metavar="ID", help="Helpdesk ticket id.", show_default="its X-Inkling-Ticket header"
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Public tracker URL the links point at.",
            show_default="INKLING_BASE_URL",
        ),
    ] = None,
    sent_at: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="When the message is (or was) sent: ISO 8601 with an offset "
            "(2026-12-04T10:00:00+01:00) or epoch seconds.",
            show_default="now",
        ),
    ] = None,
) -> None:
    """Register a message and write its tracked MIME to stdout.

    The recipients are read from its To, Cc and Bcc headers; its sender is whatever sends
    the output on (sendmail -t, your mail client).
    """
    from inkling import root
    from inkling.api.compose import from_mime
    from inkling.relay import CopyPlan
    from inkling.root import local_base_url_warning, open_services
    from inkling.tokens import new_message_id

    when = int(time.time()) if sent_at is None else _sent_at(sent_at)
    chosen = settings(base_url=base_url)
    raw = read_input(file)
    services = open_services(chosen)
    outgoing = _envelope(raw, from_mime)
    plan = CopyPlan(new_message_id(), when, outgoing[1])
    (copy,) = root.outbound(chosen, services).register(
        raw, outgoing[0], [plan], workflow=workflow, ticket=ticket
    )
    warning = local_base_url_warning(chosen)
    if warning:
        say(f"inkling: warning: {printable(warning)}")
    for note in copy.warnings:
        say(f"inkling: warning: {printable(note)}")
    for defect in copy.defects:
        say(f"inkling: defect: {printable(defect)}")
    if copy.record.untracked:
        say(f"inkling: warning: not tracked: {printable(copy.record.untracked)}")
    to = f" to {copy.record.recipient}" if copy.record.recipient else ""
    links = "1 tracked link" if len(copy.links) == 1 else f"{len(copy.links)} tracked links"
    say(
        f"inkling: registered {printable(copy.record.message_id)}{printable(to)} as "
        f"{copy.record.id} ({links})"
    )
    sys.stdout.buffer.write(copy.data)
    sys.stdout.buffer.flush()


def _sent_at(text: str) -> int:
    """``--sent-at`` as epoch seconds; exit 2 with one line if it is no time a token can
    carry."""
    from inkling.times import parse_time

    try:
        seconds = parse_time(text, "--sent-at")
    except InklingError as exc:
        fail(str(exc), code=2)
    if not 0 <= seconds <= LATEST_SENT_AT:
        fail(f"--sent-at must be between 1970 and 2106 (the links carry it), not {text!r}", code=2)
    return int(seconds)


def _envelope(raw: bytes, from_mime: Any) -> tuple[str, list[str]]:
    """The sender and recipients the message's headers name (none is fine here: the
    copy is registered without a recipient)."""
    from inkling.errors import RequestError

    try:
        outgoing = from_mime(raw, for_sending=False)
    except RequestError as exc:
        raise InklingError(f"cannot instrument {exc.field}: {exc.message}") from exc
    return outgoing.sender, list(outgoing.recipients)


def reading(
    message: Annotated[
        str,
        typer.Argument(
            metavar="MESSAGE", help="Its Message-ID (with or without <>) or Inkling's id."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    limit: Annotated[
        int | None,
        typer.Option(metavar="N", help="Show at most N events.", show_default="all", min=0),
    ] = None,
) -> None:
    """What happened to one message after it was sent.

    The sentence a person can trust, then each open and click with its verdict (person,
    machine or unknown), the reasons for it and how it changed; times in UTC.
    """
    from inkling.cli.reading import show_reading
    from inkling.root import open_services
    from inkling.signals.reading import read_message

    services = open_services(settings())
    result = read_message(services.store, message, limit=limit)
    if as_json:
        print(dumps(result.as_json(), indent=2))
        return
    show_reading(result)


def parse(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", help="Inbound messages (.eml), one or more.")
    ],
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Also record each as an event on the message it answers, as the inbound "
            "MX and IMAP do (recording the same file twice records it once).",
        ),
    ] = False,
) -> None:
    """Tell bounces, read receipts, auto-replies and replies apart.

    Prints one JSON line per file: {"file", "kind", "in_reply_to", "defects", ...}; with
    --record also "recorded": the Inkling id of the message it answered and the event's
    id, or null when it answers no message Inkling sent.
    """
    from inkling.inbound import parse_message

    recorder = _file_recorder() if record else None
    unreadable = 0
    out = sys.stdout
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            unreadable += 1
            line: dict[str, object] = {"file": str(file), "error": exc.strerror or str(exc)}
        else:
            line = {"file": str(file), **parse_message(raw).as_json()}
            if recorder is not None:
                line["recorded"] = recorder(raw)
        out.write(dumps(line) + "\n")
    out.flush()
    if unreadable:
        raise typer.Exit(1)


def _file_recorder() -> Callable[[bytes], dict[str, str] | None]:
    """Records a saved inbound mail on the copy it answers, dated by its Date header."""
    from inkling.inbound.recording import InboundRecorder
    from inkling.root import open_services

    chosen = settings()
    services = open_services(chosen)
    recorder = InboundRecorder(services.store, services.codec, chosen.return_domain, via="file")

    def record(raw: bytes) -> dict[str, str] | None:
        event = recorder.deliver(raw, received_at=_date_of(raw))
        return {"message": event.message, "event": event.id} if event is not None else None

    return record


def _date_of(raw: bytes) -> float | None:
    """When a saved mail says it was written (its Date header), if it says so sensibly."""
    from email.parser import BytesHeaderParser
    from email.utils import parsedate_to_datetime

    date = BytesHeaderParser().parsebytes(raw).get("Date")
    try:
        moment = parsedate_to_datetime(str(date)) if date else None
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return min(moment.timestamp(), time.time())


def read_input(file: Path) -> bytes:
    """The bytes of ``file``, or of stdin for ``-``; one clear line if unreadable."""
    if str(file) == "-":
        return sys.stdin.buffer.read()
    try:
        return file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
