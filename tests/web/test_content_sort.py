"""The Content tables' order: a figure highest first, a rate with nothing under it last,
ties most sent first, names A to Z whatever their case, and the default for anything else."""

from __future__ import annotations

from inkling.reports.content import LinkFigures
from inkling.web.content_sort import chosen_sort, sorted_links


def _link(url: str, sent: int, opens: int, clicks: int) -> LinkFigures:
    return LinkFigures(
        url=url,
        messages=sent,
        human_opens=opens,
        human_clicks=clicks,
        click_through=clicks / opens if opens else None,
        clicking_tickets=clicks,
        clicked_then_came_back=None,
        download=False,
        flags=[],
    )


LINKS = [
    _link("https://b.example/", 9, 0, 0),  # no opens: no click-through
    _link("https://A.example/", 5, 4, 1),
    _link("https://c.example/", 7, 4, 1),
    _link("https://d.example/", 2, 2, 2),
]


def _urls(sort: str) -> list[str]:
    return [link.url for link in sorted_links(LINKS, chosen_sort(sort))]


def test_a_rate_sorts_highest_first_with_no_rate_last_and_ties_most_sent_first() -> None:
    assert _urls("click_through") == [
        "https://d.example/",
        "https://c.example/",
        "https://A.example/",
        "https://b.example/",
    ]


def test_names_sort_whatever_their_case_and_anything_else_is_the_most_sent() -> None:
    assert _urls("name")[:2] == ["https://A.example/", "https://b.example/"]
    assert _urls("sent") == _urls("open_rate") == _urls("<script>")
    assert _urls("sent")[0] == "https://b.example/"
