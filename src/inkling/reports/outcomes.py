"""The outcome figures of a set of solved tickets: FCR, time to resolution, repeat
contacts, self-service completion (DESIGN.md, *Metrics*; docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inkling.reports.facts import Engagement, TicketFacts
from inkling.reports.stats import hours, percentile, rate


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Rates are shares (0 to 1, 3 decimals), hours to 1 decimal; None where there is
    nothing to divide by."""

    tickets_solved: int
    fcr: float | None
    ttr_median: float | None
    ttr_p90: float | None
    repeat_contact_rate: float | None
    self_service_completion: float | None
    #: Tickets whose mail carried a help-article link (self-service's denominator).
    help_tickets: int

    def as_json(self) -> dict[str, Any]:
        return {
            "tickets_solved": self.tickets_solved,
            "fcr": self.fcr,
            "ttr_business_hours": {"median": self.ttr_median, "p90": self.ttr_p90},
            "repeat_contact_rate": self.repeat_contact_rate,
            "self_service_completion": self.self_service_completion,
        }


def outcomes(facts: Sequence[TicketFacts]) -> Outcomes:
    """The figures over ``facts``."""
    solved = len(facts)
    ttr = sorted(f.ttr_hours for f in facts if f.ttr_hours is not None)
    helped = [f for f in facts if f.help_link]
    return Outcomes(
        tickets_solved=solved,
        fcr=rate(sum(f.first_contact for f in facts), solved),
        ttr_median=hours(percentile(ttr, 0.5)),
        ttr_p90=hours(percentile(ttr, 0.9)),
        repeat_contact_rate=rate(sum(f.repeat_contact for f in facts), solved),
        self_service_completion=rate(sum(f.self_served for f in helped), len(helped)),
        help_tickets=len(helped),
    )


def by_engagement(facts: Sequence[TicketFacts]) -> dict[Engagement, Outcomes]:
    """The figures of the tickets a person clicked, opened, or gave no sign on."""
    return {
        engagement: outcomes([f for f in facts if f.engagement is engagement])
        for engagement in Engagement
    }
