"""One recommendation per open ticket, from the first rule that applies to its latest
outbound message M (sent at ``s``), on the team's business-hours clock.

The rules and their order are the contract's (DESIGN.md, "Business hours and the
playbook"); each gives an action, when it falls due, and a reason a person understands.
Only a person's signs count: an Apple-proxy fetch, a scanner's click or a hit nobody can
tell from a machine's is no sign of a person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from inkling.model import Priority, Ticket
from inkling.playbook.teams import Team
from inkling.signals.state import Signs, State, what_machines_did

HOUR = 3600.0


class Action(StrEnum):
    FIX_ADDRESS = "fix_address"
    CHECK_SENDING = "check_sending"
    OTHER_CHANNEL = "other_channel"
    WAIT_UNTIL = "wait_until"
    NONE = "none"
    HOLD = "hold"
    CHECK_IN = "check_in"
    RESOLVED_QUIETLY = "resolved_quietly"
    SIMPLIFY = "simplify"
    ESCALATE = "escalate"
    NUDGE = "nudge"


@dataclass(frozen=True, slots=True)
class Recommendation:
    action: Action
    due: float | None
    reason: str
    state: State | None  # None: the team has sent nothing on the ticket yet


@dataclass(slots=True)
class Situation:
    """What a rule looks at: the ticket, its team, M's signs, and the time."""

    ticket: Ticket
    team: Team
    signs: Signs
    at: float

    @property
    def today(self) -> date:
        return local_date(self.team.calendar.timezone, self.at)

    def later(self, start: float, *, hours: float = 0, days: float = 0) -> float:
        calendar = self.team.calendar
        return calendar.add_hours(start, hours) if hours else calendar.add_days(start, days)

    def business(self, start: float, end: float) -> str:
        """The business time from ``start`` to ``end`` in words: "1 business day"."""
        calendar = self.team.calendar
        hours = calendar.between(start, end) / HOUR
        return business_words(hours, calendar.day_hours)


#: What a rule that applies says: the action, when it is due, and why.
Made = tuple[Action, float | None, str]
Rule = Callable[[Situation], Made | None]


@lru_cache(maxsize=256)
def local_date(zone: str, at: float) -> date:
    """The date at ``at`` in ``zone`` (cached: a queue asks it once per ticket)."""
    return datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(zone)).date()


def recommend(ticket: Ticket, team: Team, signs: Signs | None, at: float) -> Recommendation:
    """The recommendation for an open ticket at ``at``; ``signs`` are those of its latest
    outbound message (None when the team has sent nothing yet)."""
    if signs is None:
        return Recommendation(Action.NONE, None, "Nothing has been sent on this ticket yet.", None)
    situation = Situation(ticket, team, signs, at)
    for rule in RULES:
        found = rule(situation)
        if found is not None:
            action, due, reason = found
            return Recommendation(action, due, reason, signs.state(situation.today))
    raise AssertionError("the last rule always applies")


def _bounced_hard(s: Situation) -> Made | None:
    bounce = s.signs.bounce
    if bounce is None or not bounce.hard:
        return None
    why = f"{bounce.status} {bounce.reason}".strip()
    reason = f"The address is wrong: the mail bounced ({why}). Check it with the customer."
    return _made(Action.FIX_ADDRESS, bounce.ts, reason)


def _bounced_by_us(s: Situation) -> Made | None:
    bounce = s.signs.bounce
    if bounce is None or bounce.owner != "sender":
        return None
    reason = (
        f"The receiving server refused our own sending ({bounce.status} {bounce.reason}): "
        "authentication, reputation or PTR. Tell an admin: it hurts every customer at once."
    )
    return _made(Action.CHECK_SENDING, bounce.ts, reason)


def _bounced_soft(s: Situation) -> Made | None:
    bounce = s.signs.bounce
    if bounce is None:
        return None
    reason = (
        f"The mail did not get through ({bounce.status} {bounce.reason}) on the customer's "
        "side: reach them another way (phone, chat, another address)."
    )
    return _made(Action.OTHER_CHANNEL, bounce.ts, reason)


def _away(s: Situation) -> Made | None:
    until = s.signs.away_until
    if until is None or not s.signs.away_on(s.today):
        return None
    due = s.team.calendar.first_working_moment_on(until)
    reason = f"An out-of-office reply says the customer is back on {until.isoformat()}."
    return _made(Action.WAIT_UNTIL, due, reason + " Wait until then.")


def _replied(s: Situation) -> Made | None:
    if not s.signs.replies:
        return None
    return _made(Action.NONE, None, "The customer replied: the helpdesk has the ball.")


def _clicked(s: Situation) -> Made | None:
    click = s.signs.last_click
    if click is None:
        return None
    limits = s.team.thresholds
    hold_until = s.later(click, hours=limits.hold_hours)
    if s.at < hold_until:
        reason = (
            "A person clicked a link: give them time to try it before a nudge, until "
            f"{business_words(limits.hold_hours, _day(s))} after the click."
        )
        return _made(Action.HOLD, hold_until, reason)
    quiet_from = s.later(click, days=limits.quiet_after_days)
    ago = s.business(click, s.at)
    if s.at < quiet_from:
        reason = f"A person clicked a link {ago} ago and has not replied: ask whether it helped."
        return _made(Action.CHECK_IN, hold_until, reason)
    reason = (
        f"A person clicked a link and there has been no contact for {ago}: "
        "it probably solved it. Consider closing the ticket."
    )
    return _made(Action.RESOLVED_QUIETLY, quiet_from, reason)


def _opened_often(s: Situation) -> Made | None:
    needed = s.team.thresholds.simplify_opens
    occasions = s.signs.occasions
    if len(occasions) < needed:
        return None
    reason = (
        f"A person opened it on {len(occasions)} occasions without clicking or replying: "
        "the answer may be hard to follow. Send a shorter, simpler one."
    )
    return _made(Action.SIMPLIFY, occasions[needed - 1], reason)


def _opened(s: Situation) -> Made | None:
    opened = s.signs.last_open
    if opened is None:
        return None
    due = s.later(opened, days=s.team.thresholds.nudge_after_days)
    times = "once" if len(s.signs.occasions) == 1 else f"on {len(s.signs.occasions)} occasions"
    reason = f"A person opened it {times}, last {s.business(opened, s.at)} ago, with no click "
    reason += "or reply: check in if nothing comes."
    return _made(Action.CHECK_IN, due, reason)


def _silent(s: Situation) -> Made | None:
    urgent = s.ticket.priority in (Priority.HIGH, Priority.URGENT)
    limits = s.team.thresholds
    days = limits.escalate_after_days if urgent else limits.nudge_after_days
    due = s.later(s.signs.sent_at, days=days)
    since = s.business(s.signs.sent_at, s.at)
    silence = f"no sign of a person for {since}: {what_machines_did(s.signs)}."
    if urgent:
        said = f"{s.ticket.priority.value.capitalize()}, and {silence}"
        if s.at < due:
            said += f" Escalate after {business_words(days * _day(s), _day(s))} if it stays so."
        return _made(Action.ESCALATE, due, said)
    said = f"{silence[0].upper()}{silence[1:]}"
    if s.at < due:
        said += f" Nudge after {business_words(days * _day(s), _day(s))} if it stays so."
    return _made(Action.NUDGE, due, said)


def _day(s: Situation) -> float:
    return s.team.calendar.day_hours


def _made(action: Action, due: float | None, reason: str) -> Made:
    return action, due, reason


RULES: tuple[Rule, ...] = (
    _bounced_hard,
    _bounced_by_us,
    _bounced_soft,
    _away,
    _replied,
    _clicked,
    _opened_often,
    _opened,
    _silent,
)


def business_words(hours: float, day_hours: float) -> str:
    """Business time in words: "1 business day", "3 business hours", "20 business minutes"."""
    if hours >= day_hours and day_hours > 0:
        days = hours / day_hours
        shown = f"{days:.1f}".rstrip("0").rstrip(".")
        return f"{shown} business day{'' if shown == '1' else 's'}"
    if hours >= 1:
        shown = f"{hours:.1f}".rstrip("0").rstrip(".")
        return f"{shown} business hour{'' if shown == '1' else 's'}"
    minutes = round(hours * 60)
    if minutes == 0:  # outside working hours the team's clock stands still
        return "under a business minute"
    return f"{minutes} business minute{'' if minutes == 1 else 's'}"
