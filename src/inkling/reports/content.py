"""How each link and each subject line did: per link URL (a help article, a file) and per
subject (a template), human figures only, with their flags (``flags.py``).

A *message* here is one Message-ID, however many copies it went out as: ``human_opens``
counts the messages carrying the link that a person opened, ``human_clicks`` those on
which a person clicked it. A message on two solved tickets counts once.

Beside them, never in them, the *raw* figures: ``raw_opens`` counts the messages that
anything opened (Apple's proxy fetching the pixel, a scanner, a person), ``raw_clicks``
those on which anything clicked (a scanner checking every link at delivery, a person):
what a tracker that does not tell machines apart would report.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inkling.reports.flags import THRESHOLDS, Thresholds, is_download, link_flags, subject_flags
from inkling.reports.stats import rate
from inkling.store.reports import ReportRows

# A subject's ticket marker ("[#4123]") and reply or forward prefixes ("Re: Fwd: ") make
# every ticket's subject its own: without them, one template is one line.
_TICKET_MARKER = re.compile(r"\s*\[#[^\]]*\]\s*")
_PREFIXES = re.compile(r"^\s*((re|fwd?|aw|wg|sv|tr)\s*:\s*)+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class LinkFigures:
    url: str
    messages: int
    human_opens: int
    human_clicks: int
    click_through: float | None
    #: Tickets where a person clicked the link (``clicked_then_came_back``'s denominator).
    clicking_tickets: int
    clicked_then_came_back: float | None
    download: bool
    flags: list[str]
    #: Messages carrying the link that anything opened, machines included (raw).
    raw_opens: int = 0
    #: Messages on which anything clicked the link, machines included (raw).
    raw_clicks: int = 0
    #: Of ``clicking_tickets``, those whose customer came back within 7 days.
    came_back_tickets: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "messages": self.messages,
            "human_opens": self.human_opens,
            "human_clicks": self.human_clicks,
            "click_through": self.click_through,
            "clicked_then_came_back": self.clicked_then_came_back,
            "download": self.download,
            "flags": list(self.flags),
            "raw_opens": self.raw_opens,
            "raw_clicks": self.raw_clicks,
        }


@dataclass(frozen=True, slots=True)
class SubjectFigures:
    subject: str
    messages: int
    human_opens: int
    human_open_rate: float | None
    flags: list[str]
    #: Messages with the subject on which a person clicked one of their links.
    human_clicks: int = 0
    #: ``human_clicks`` / ``human_opens``.
    click_through: float | None = None
    #: Messages with the subject that anything opened, machines included (raw).
    raw_opens: int = 0
    #: Messages with the subject on which anything clicked a link (raw).
    raw_clicks: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "messages": self.messages,
            "human_open_rate": self.human_open_rate,
            "flags": list(self.flags),
            "raw_opens": self.raw_opens,
            "raw_clicks": self.raw_clicks,
        }


@dataclass(slots=True)
class _Link:
    clicked: set[str] = field(default_factory=set)  # Message-IDs a person clicked it on
    first_click: dict[str, float] = field(default_factory=dict)  # ticket -> first click


def link_figures(
    rows: ReportRows,
    came_back: Callable[[str, float], bool],
    thresholds: Thresholds = THRESHOLDS,
) -> list[LinkFigures]:
    """Every link URL in the solved tickets' mail, most sent first. ``came_back(ticket,
    t)``: whether that ticket's customer came back within 7 days after ``t``."""
    clicks: defaultdict[str, _Link] = defaultdict(_Link)
    for ticket, message_id, url, first in rows.clicks:
        found = clicks[url]
        found.clicked.add(message_id)
        if first < found.first_click.get(ticket, first + 1):
            found.first_click[ticket] = first
    figures = [
        _figures(
            url,
            (messages, opened, raw_opened, raw_clicked),
            clicks.get(url, _Link()),
            came_back,
            thresholds,
        )
        for url, messages, opened, raw_opened, raw_clicked in rows.links
    ]
    figures.sort(key=lambda f: (-f.messages, f.url))
    return figures


def _figures(
    url: str,
    counts: tuple[int, int, int, int],
    link: _Link,
    came_back: Callable[[str, float], bool],
    thresholds: Thresholds,
) -> LinkFigures:
    """``counts``: messages carrying ``url``, of which opened by a person, opened by
    anything, clicked by anything."""
    messages, human_opens, raw_opens, raw_clicks = counts
    click_through = rate(len(link.clicked), human_opens)
    back = sum(came_back(ticket, t) for ticket, t in link.first_click.items())
    came_back_rate = rate(back, len(link.first_click))
    return LinkFigures(
        url=url,
        messages=messages,
        human_opens=human_opens,
        human_clicks=len(link.clicked),
        click_through=click_through,
        clicking_tickets=len(link.first_click),
        clicked_then_came_back=came_back_rate,
        download=is_download(url),
        flags=link_flags(
            human_opens, click_through, len(link.first_click), came_back_rate, thresholds
        ),
        raw_opens=raw_opens,
        raw_clicks=raw_clicks,
        came_back_tickets=back,
    )


def subject_figures(rows: ReportRows, thresholds: Thresholds = THRESHOLDS) -> list[SubjectFigures]:
    """Every subject line of the solved tickets' mail tracked with a pixel (a message sent
    without one could not be seen opened), most sent first."""
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for subject, *figures_of_one in rows.subjects:
        line = template(subject)
        if line:
            summed = counts[line]
            for n, value in enumerate(figures_of_one):
                summed[n] += value
    figures = []
    for line, (messages, human_opens, raw_opens, human_clicks, raw_clicks) in counts.items():
        open_rate = rate(human_opens, messages)
        figures.append(
            SubjectFigures(
                subject=line,
                messages=messages,
                human_opens=human_opens,
                human_open_rate=open_rate,
                flags=subject_flags(messages, open_rate, thresholds),
                human_clicks=human_clicks,
                click_through=rate(human_clicks, human_opens),
                raw_opens=raw_opens,
                raw_clicks=raw_clicks,
            )
        )
    figures.sort(key=lambda f: (-f.messages, f.subject))
    return figures


def template(subject: str | None) -> str:
    """The subject line without its ticket marker and reply prefixes, spaces collapsed:
    "Re: Your refund [#4123]" is "Your refund"."""
    if not subject:
        return ""
    line = _TICKET_MARKER.sub(" ", subject)
    return _SPACES.sub(" ", _PREFIXES.sub("", line)).strip()
