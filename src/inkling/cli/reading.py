"""A reading in the terminal: the message, the honest sentence, then each event with its
verdict, the reasons (each marked as pointing to a person or a machine) and its history.

Laid out for 80 columns: one line per event, its reasons and history indented below it.
Everything that came from outside is passed through ``printable`` and shown as plain
``Text`` (so ``[b]`` in a user agent is never read as Rich markup).
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


def show_reading(result: Reading, console: Console | None = None) -> None:
    out = console or Console(highlight=False)
    data = result.as_json()
    title = Text(printable(data["message_id"]), style="bold")
    title.append(f"  (Inkling id {data['id']})", style="")
    out.print(title, overflow="fold")
    if data["recipient"]:
        sent = f"to {printable(data['recipient'])}, sent {_when(data['sent_at'])} UTC"
        out.print(Text(sent), overflow="fold")
    out.print(Text(printable(data["sentence"])), overflow="fold")
    if not data["events"]:
        return
    out.print()
    out.print(Text(_row("when (UTC)", "kind", "verdict", "agent", "link or client"), "bold"))
    for event in data["events"]:
        out.print(_line(event), overflow="fold")
        for line in _details(event):
            out.print(line, overflow="fold")


def _row(when: str, kind: str, verdict: str, agent: str, where: str) -> str:
    return f"{when:<19}  {kind:<9} {verdict:<7} {agent:<17} {where}"


def _line(event: dict[str, Any]) -> Text:
    link = "hidden link (honeypot)" if event["honeypot"] else event["url"]
    where = printable(_shorten(str(link or event["user_agent"] or event["method"] or ""), 22))
    agent = printable(_shorten(event["agent"] or "", 17))
    line = Text(f"{_when(event['ts']):<19}  {event['kind']:<9} ")
    line.append(f"{event['verdict']:<7}", _VERDICT_STYLES.get(event["verdict"], ""))
    line.append(f" {agent:<17} {where}")
    return line


def _details(event: dict[str, Any]) -> list[Text]:
    """The indented lines under an event: the client when a link took its place, each
    reason with its mark, and each change of verdict."""
    lines: list[Text] = []
    if event["url"] and len(event["url"]) > 22:
        lines.append(Text("  link: " + printable(event["url"]), "dim"))
    if ((event["url"] or event["honeypot"]) and event["user_agent"]) or (
        event["user_agent"] and len(event["user_agent"]) > 22
    ):
        lines.append(Text("  client: " + printable(event["user_agent"]), "dim"))
    for why in event.get("why", []) or [{"reason": r, "points_to": None} for r in event["reasons"]]:
        mark, style = MARKS.get(why["points_to"], NEUTRAL_MARK)
        line = Text(f"  {mark}: ", style)
        line.append(printable(why["reason"]))
        lines.append(line)
    for change in event["history"]:
        before, after = change["from"], change["to"]
        lines.append(
            Text(
                f"  was {before['verdict']} ({printable(before['agent'] or '-')}), "
                f"now {after['verdict']} ({printable(after['agent'] or '-')}) since "
                f"{_when(change['changed_at'])}",
                "italic",
            )
        )
    return lines


_VERDICT_STYLES = {"human": "green", "machine": "red", "unknown": "yellow"}


def _when(iso: str) -> str:
    """``2026-12-07T15:00:00Z`` as ``2026-12-07 15:00:00`` (the column says UTC)."""
    return iso.replace("T", " ").removesuffix("Z")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
