"""Times as support leads speak them, on the team's clock: "due in 2 business hours
(Mon 16:00 CET)", "until Wed 10:05 CET", "25 s after sending".

Every time shown also goes into a ``<time datetime>`` (UTC) with the exact UTC time as
its title, so the words can stay short and the exact moment is a hover away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from inkling.playbook.calendar import BusinessCalendar
from inkling.playbook.rules import Action, business_words
from inkling.times import iso

#: Actions whose due time is the end of a wait, said "until ...", not "due ...".
UNTIL = frozenset({Action.HOLD, Action.WAIT_UNTIL})
#: Within this many days a time is named by its weekday alone ("Mon 16:00").
WEEKDAY_DAYS = 6


@dataclass(frozen=True, slots=True)
class Moment:
    """One instant as a page shows it: ``local`` in words, ``iso`` for ``<time
    datetime>``, ``exact`` for its title."""

    ts: float
    iso: str
    exact: str
    local: str


def moment(ts: float, zone: str, at: float) -> Moment:
    """``ts`` on the clock of ``zone``, named by weekday when it is near ``at``."""
    local = datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(zone))
    near = abs(ts - at) < WEEKDAY_DAYS * 86_400
    shape = "%a %H:%M %Z" if near else "%a %-d %b %H:%M %Z"
    if not near and local.year != datetime.fromtimestamp(at, UTC).year:
        shape = "%a %-d %b %Y %H:%M %Z"
    exact = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Moment(ts, iso(ts), exact, local.strftime(shape))


def due_words(action: Action, due: Moment | None, at: float, calendar: BusinessCalendar) -> str:
    """When the action falls due, in business time: "due now (since Mon 16:00 CET)",
    "due in 2 business hours (Mon 16:00 CET)", "until Wed 10:05 CET"."""
    if due is None:
        return "no due time"
    if due.ts <= at:
        return f"until {due.local} (over)" if action in UNTIL else f"due now (since {due.local})"
    hours = calendar.between(at, due.ts) / 3600
    if hours * 60 < 1:
        span = "when work starts"
    else:
        span = "in " + business_words(hours, calendar.day_hours)
    if action in UNTIL:
        return f"until {due.local} ({span})"
    return f"due {span} ({due.local})"


def after_words(seconds: float) -> str:
    """A wall-clock delay, short: "25 s", "3 min", "2 h", "3 days"."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    days = round(seconds / 86_400)
    return f"{days} day{'' if days == 1 else 's'}"
