"""The triage queue and message lists as a support lead reads them in a terminal.

Every value that came from outside (ticket ids, subjects, addresses, reasons quoting a
bounce) is passed through ``printable`` and shown as plain ``Text``, never as markup.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from inkling.cli.output import printable
from inkling.playbook.queue import QueueItem
from inkling.signals.search import ThreadView
from inkling.times import iso

_PRIORITY_STYLES = {"urgent": "bold red", "high": "red", "normal": "", "low": "dim"}
_STATE_STYLES = {
    "bounced": "red",
    "away": "yellow",
    "replied": "green",
    "clicked": "green",
    "opened": "green",
    "machine_only": "yellow",
    "not_opened": "dim",
}


def show_queue(items: Sequence[QueueItem], console: Console | None = None) -> None:
    """One line per ticket in aligned columns, its reason wrapped under it."""
    out = console or Console(highlight=False)
    if not items:
        out.print("Nothing to do: no open ticket needs an action.")
        return
    due = sum(item.due_now for item in items)
    idle = sum(item.recommendation.due is None for item in items)
    counts = f"{due} due now, {len(items) - due - idle} later"
    if idle:
        counts += f", {idle} with nothing to do"
    out.print(Text(f"{counts} (times in UTC)", style="bold"))
    rows = [_queue_row(item) for item in items]
    widths = [max(len(row[i].plain) for row in [_HEADINGS, *rows]) for i in range(len(_HEADINGS))]
    out.print(_line(_HEADINGS, widths), no_wrap=True, overflow="ellipsis")
    indent = " " * (widths[0] + 1)
    for item, row in zip(items, rows, strict=True):
        out.print(_line(row, widths), no_wrap=True, overflow="ellipsis")
        width = max(out.width - len(indent), 30)
        for piece in textwrap.wrap(printable(item.recommendation.reason), width):
            out.print(Text(indent + piece, style="dim"), no_wrap=True, overflow="ellipsis")


_HEADINGS = [
    Text(name, style="bold")
    for name in ("due", "ticket", "priority", "action", "when", "state", "assignee")
]


def _line(cells: list[Text], widths: list[int]) -> Text:
    line = Text()
    for cell, width in zip(cells, widths, strict=True):
        line.append_text(cell)
        line.append(" " * (width - len(cell.plain) + 2))
    line.rstrip()
    return line


def _queue_row(item: QueueItem) -> list[Text]:
    r = item.recommendation
    priority = item.ticket.priority.value
    state = r.state.value if r.state is not None else "-"
    when = iso(r.due)[:16].replace("T", " ") if r.due is not None else "-"
    return [
        Text("now" if item.due_now else "", style="bold"),
        Text(printable(item.ticket.id)[:24]),
        Text(priority, style=_PRIORITY_STYLES.get(priority, "")),
        Text(r.action.value, style="bold"),
        Text(when),
        Text(state, style=_STATE_STYLES.get(state, "")),
        Text(printable(item.ticket.assignee or "-")),
    ]


def show_messages(threads: Sequence[ThreadView], console: Console | None = None) -> None:
    out = console or Console(highlight=False)
    if not threads:
        out.print("No message matches.")
        return
    table = Table(box=None, show_edge=False, pad_edge=False)
    for name in ("sent (UTC)", "message", "ticket", "recipient", "state", "opens", "clicks"):
        table.add_column(name, overflow="fold")
    for thread in threads:
        sent = iso(thread.sent_at).replace("T", " ").removesuffix("Z")
        for n, r in enumerate(thread.recipients):
            table.add_row(
                Text(sent if n == 0 else ""),
                Text(printable(thread.message_id) if n == 0 else ""),
                Text(printable(thread.ticket or "-") if n == 0 else ""),
                Text(printable(r.copy.recipient or "-")),
                Text(r.state.value, style=_STATE_STYLES.get(r.state.value, "")),
                Text(f"{r.opens['human']} person / {r.opens['total']}"),
                Text(f"{r.clicks['human']} person / {r.clicks['total']}"),
                end_section=n == len(thread.recipients) - 1,
            )
    out.print(table)
