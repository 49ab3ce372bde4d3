"""The order of the Content page's tables, chosen by a column's heading.

Sorting is done on the server: each heading is a link (``?sort=opens``) that shows the
same period with the rows in that column's order, so it works without JavaScript and a
sorted table can be shared as a link. Figures sort highest first, names A to Z; a rate
with nothing under it (no opens, so no click-through) goes last, and ties keep the most
sent first. The tables show at most a page's worth of rows, the most sent; a sort orders
those rows, as the "and N more, less sent" line under a table says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from inkling.reports.content import LinkFigures, SubjectFigures

Figures = TypeVar("Figures", LinkFigures, SubjectFigures)


@dataclass(frozen=True, slots=True)
class Column:
    """A heading that sorts: its ``sort`` value, and the figure it sorts by in each
    table (``None``: the table has no such column; "" for the rows' names)."""

    key: str
    link: str | None
    subject: str | None


#: The columns that sort, by their ``sort`` value; "sent" is the tables' own order.
COLUMNS = {
    column.key: column
    for column in (
        Column("name", "", ""),
        Column("sent", "messages", "messages"),
        Column("opens", "human_opens", "human_opens"),
        Column("open_rate", None, "human_open_rate"),
        Column("clicks", "human_clicks", "human_clicks"),
        Column("click_through", "click_through", "click_through"),
        Column("came_back", "clicked_then_came_back", None),
    )
}
DEFAULT = "sent"


def chosen_sort(value: str | None) -> str:
    """The column ``value`` names, or the default order for anything else."""
    return value if value in COLUMNS else DEFAULT


def sorted_links(links: Sequence[LinkFigures], sort: str) -> list[LinkFigures]:
    return _sorted(links, COLUMNS[chosen_sort(sort)].link, name=lambda row: row.url)


def sorted_subjects(subjects: Sequence[SubjectFigures], sort: str) -> list[SubjectFigures]:
    return _sorted(subjects, COLUMNS[chosen_sort(sort)].subject, name=lambda row: row.subject)


def _sorted(
    rows: Sequence[Figures], figure: str | None, *, name: Callable[[Figures], str]
) -> list[Figures]:
    # most sent first, then by name: the order every sort falls back on for its ties
    ordered = sorted(rows, key=lambda row: (-row.messages, name(row)))
    if figure == "":
        return sorted(ordered, key=lambda row: name(row).casefold())
    if figure is None:
        return ordered

    def key(row: Figures) -> tuple[bool, float]:
        found = getattr(row, figure)
        return (found is None, -(found or 0.0))

    return sorted(ordered, key=key)
