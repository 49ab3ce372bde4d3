"""What the demo's data says at a glance, worked out by the real playbook and reports:
how many tickets need someone now, what the playbook recommends, and which help
articles and subject lines the Content page flags.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from inkling.demo.company import HELP_CENTER
from inkling.playbook.queue import build_queue
from inkling.playbook.teams import TeamBook
from inkling.reports import Period, build_report
from inkling.store import Store

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Glance:
    due_now: int
    waiting: int
    actions: Counter[str]
    #: (URL or subject line, its flags), as the Content page shows them.
    flagged: list[tuple[str, list[str]]]


def glance(store: Store, teams: TeamBook, now: float) -> Glance:
    """The queue at ``now`` and the content flags of the 30 days before it."""
    queue = build_queue(store, teams, at=now)
    due = sum(item.due_now for item in queue)
    report = build_report(store, teams, Period(now - 30 * DAY, now), help_center=[HELP_CENTER])
    flagged = [(link.url, list(link.flags)) for link in report.content if link.flags]
    flagged += [(line.subject, list(line.flags)) for line in report.subjects if line.flags]
    return Glance(
        due_now=due,
        waiting=len(queue) - due,
        actions=Counter(item.recommendation.action.value for item in queue),
        flagged=flagged,
    )
