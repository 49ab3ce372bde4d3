"""A reading in the terminal: the message, the honest sentence, then each event with its
verdict, the reasons (each marked as pointing to a person or a machine) and its history.

Laid out for 80 columns: one line per event, its details indented below it, each detail
wrapped under its own text (a hanging indent), so that nothing runs into the margin.
Everything that came from outside is passed through ``printable`` first and shown as plain
``Text`` (so ``[b]`` in a user agent is never read as Rich markup); columns are cut after
escaping, so an escape never pushes a line past its width.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from inkling.cli.output import printable
from inkling.signals.reading import Reading

#: How a reason is marked by where it points.
MARKS = {"machine": ("▲ machine", "red"), "person": ("▼ person", "green")}
NEUTRAL_MARK = ("· neither", "dim")
#: Widths of the event line's columns; the last (link or client) takes what is left.
WHEN, KIND, VERDICT, AGENT = 19, 9, 7, 17
WHERE = 22
_VERDICT_STYLES = {"human": "green", "machine": "red", "unknown": "yellow"}


def show_reading(result: Reading, console: Console | None = None) -> None:
    out = console or Console(highlight=False)
    data = result.as_json()
    title = Text(printable(data["message_id"]), style="bold")
    title.append(f"  (Inkling id {data['id']})", style="")
    heading = [title, *(Text(line) for line in _about(data)), Text(printable(data["sentence"]))]
    for text in heading:
        for line in _wrap(text, out, out.width):
            out.print(line, no_wrap=True, overflow="ellipsis")
    if not data["events"]:
        return
    out.print()
    header = _row("when (UTC)", "kind", "verdict", "agent", "link or client")
    out.print(Text(header, "bold"), no_wrap=True, overflow="ellipsis")
    for event in data["events"]:
        out.print(_line(event), overflow="ellipsis", no_wrap=True)
        for line in _hanging(_details(event), out):
            out.print(line, no_wrap=True, overflow="ellipsis")


def _about(data: dict[str, Any]) -> list[str]:
    """The lines under the title: to whom and when, the ticket, and why not tracked."""
    lines = []
    sent = f"sent {_when(data['sent_at'])} UTC"
    if data["recipient"]:
        sent = f"to {printable(data['recipient'])}, {sent}"
    if data["ticket"]:
        sent += f", ticket {printable(data['ticket'])}"
    lines.append(sent)
    if data.get("tracking") == "clicks":
        lines.append(f"links tracked, no pixel: {printable(data['untracked'] or 'policy')}")
    elif data["untracked"]:
        lines.append(f"not tracked: {printable(data['untracked'])}")
    return lines


def _row(when: str, kind: str, verdict: str, agent: str, where: str) -> str:
    return f"{when:<{WHEN}}  {kind:<{KIND}} {verdict:<{VERDICT}} {agent:<{AGENT}} {where}"


def _line(event: dict[str, Any]) -> Text:
    link = "hidden link (honeypot)" if event["honeypot"] else event["url"]
    where = _cut(printable(link or event["user_agent"] or event["method"] or ""), WHERE)
    agent = _cut(printable(event["agent"] or ""), AGENT)
    line = Text(f"{_when(event['ts']):<{WHEN}}  {event['kind']:<{KIND}} ")
    line.append(f"{event['verdict']:<{VERDICT}}", _VERDICT_STYLES.get(event["verdict"], ""))
    line.append(f" {agent:<{AGENT}} {where}")
    return line


def _details(event: dict[str, Any]) -> list[tuple[Text, Text]]:
    """The labelled lines under an event: the link and the client when the event's line
    had to cut or leave them out, each reason with its mark, and each change of verdict."""
    rows: list[tuple[Text, Text]] = []
    url, agent = printable(event["url"] or ""), printable(event["user_agent"] or "")
    if url and len(url) > WHERE:
        rows.append((Text("  link:", "dim"), Text(url, "dim")))
    if agent and (url or event["honeypot"] or len(agent) > WHERE):
        rows.append((Text("  client:", "dim"), Text(agent, "dim")))
    whys = event.get("why") or [{"reason": r, "points_to": None} for r in event["reasons"]]
    for why in whys:
        mark, style = MARKS.get(why["points_to"], NEUTRAL_MARK)
        rows.append((Text(f"  {mark}:", style), Text(printable(why["reason"]))))
    for change in event["history"]:
        rows.append((Text("  changed:", "italic"), Text(_change(change), "italic")))
    return rows


def _hanging(rows: list[tuple[Text, Text]], console: Console) -> list[Text]:
    """Each (label, text) row as lines, the text wrapped to the console's width under
    where it starts, so a long reason reads as one block beside its label."""
    if not rows:
        return []
    indent = max(label.cell_len for label, _ in rows) + 1
    width = max(console.width - indent, 20)
    lines: list[Text] = []
    for label, text in rows:
        for number, piece in enumerate(_wrap(text, console, width)):
            start = label.copy() if number == 0 else Text()
            start.pad_right(indent - start.cell_len)
            lines.append(start + piece)
    return lines


def _wrap(text: Text, console: Console, width: int) -> list[Text]:
    """``text`` in lines of at most ``width`` columns, broken between words where it can
    be, without the spaces a break leaves at the end of a line."""
    lines = list(text.wrap(console, width, overflow="fold"))
    for line in lines:
        line.rstrip()
    return lines


def _change(change: dict[str, Any]) -> str:
    """``unknown (-) → machine (scanner:proofpoint) at 2026-12-07 15:00:00``."""
    before, after = change["from"], change["to"]
    return (
        f"{before['verdict']} ({printable(before['agent'] or '-')}) → "
        f"{after['verdict']} ({printable(after['agent'] or '-')}) at {_when(change['changed_at'])}"
    )


def _when(iso: str) -> str:
    """``2026-12-07T15:00:00Z`` as ``2026-12-07 15:00:00`` (the column says UTC)."""
    return iso.replace("T", " ").removesuffix("Z")


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, ``…`` marking a cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
