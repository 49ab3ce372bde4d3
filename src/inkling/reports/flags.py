"""When a link or a subject line is flagged, in one place, and which links are files.

The thresholds are deliberately few and round: a flag is a prompt to look, not a verdict.
A flag needs enough people behind it (a minimum count) before its rate means anything.
docs/metrics.md explains each one to a support lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

OPENED_NOT_CLICKED = "opened_not_clicked"
DID_NOT_HELP = "did_not_help"
NOT_OPENED = "not_opened"

#: A link to one of these is a download (a file, not a page), whatever serves it.
DOWNLOAD_SUFFIXES = frozenset(
    {
        ".pdf", ".zip", ".gz", ".tgz", ".tar", ".7z", ".rar",
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".tif", ".tiff", ".heic",
        ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp",
        ".csv", ".txt", ".rtf", ".epub",
        ".mp3", ".mp4", ".mov", ".avi", ".webm", ".wav",
        ".exe", ".msi", ".dmg", ".pkg", ".apk", ".deb", ".rpm",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What makes each flag (rates as shares, 0 to 1)."""

    #: ``opened_not_clicked``: at least this many messages opened by a person...
    opened_not_clicked_min_opens: int = 5
    #: ...and a click-through (human clicks / human opens) below this.
    opened_not_clicked_below: float = 0.1
    #: ``did_not_help``: at least this many tickets where a person clicked the link...
    did_not_help_min_tickets: int = 2
    #: ...and a ``clicked_then_came_back`` at or above this.
    did_not_help_from: float = 0.5
    #: ``not_opened``: at least this many messages with the subject, tracked with a pixel...
    not_opened_min_messages: int = 5
    #: ...and a human open rate below this.
    not_opened_below: float = 0.2


THRESHOLDS = Thresholds()


def link_flags(
    human_opens: int,
    click_through: float | None,
    clicking_tickets: int,
    came_back: float | None,
    thresholds: Thresholds = THRESHOLDS,
) -> list[str]:
    """The flags of one link's figures, in the contract's order."""
    flags = []
    if (
        human_opens >= thresholds.opened_not_clicked_min_opens
        and click_through is not None
        and click_through < thresholds.opened_not_clicked_below
    ):
        flags.append(OPENED_NOT_CLICKED)
    if (
        clicking_tickets >= thresholds.did_not_help_min_tickets
        and came_back is not None
        and came_back >= thresholds.did_not_help_from
    ):
        flags.append(DID_NOT_HELP)
    return flags


def subject_flags(
    messages: int, open_rate: float | None, thresholds: Thresholds = THRESHOLDS
) -> list[str]:
    """The flags of one subject line's figures."""
    if (
        messages >= thresholds.not_opened_min_messages
        and open_rate is not None
        and open_rate < thresholds.not_opened_below
    ):
        return [NOT_OPENED]
    return []


def is_download(url: str) -> bool:
    """Whether ``url`` names a file (by its path's suffix: ``/files/guide.PDF``)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return dot > 0 and name[dot:] in DOWNLOAD_SUFFIXES
