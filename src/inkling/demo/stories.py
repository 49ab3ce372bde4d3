"""Five tickets written by hand, each a thing support teams see every day, set in the
last hours before ``now`` so that they lead the queue:

- a refund: Apple's privacy proxy fetches the images at once (which says nothing), and a
  person follows the link two hours later on their iPhone;
- single sign-on: Safe Links follows every link a second after delivery, the admin opens
  the reply in Outlook, clicks, and writes back; the answer to that draws only machines
  again, and a high-priority ticket without a sign of a person is escalated;
- a first workflow: a Gmail reader opens the long answer three times and never clicks
  (the playbook says: simplify);
- an invoice to an address that no longer exists: a hard bounce (fix the address);
- VPN steps to a customer on holiday: an out-of-office reply (wait until they are back).

Their Message-IDs are fixed (``<demo-sso@demo.inkling.example>``), so a reading of each
is one command away.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from inkling.demo import lines
from inkling.demo.company import DOMAIN, LINKS, team
from inkling.demo.devices import (
    GMAIL_PROXY,
    MPP,
    OUTLOOK_WINDOWS,
    SAFARI_IOS,
    SAFE_LINKS,
    YAHOO,
    Hit,
    browser_agent,
)
from inkling.playbook.calendar import BusinessCalendar

MINUTE, HOUR = 60.0, 3600.0
APPLE_RELAY = "172.225.6.9"
OFFICE = "38.104.17.23"  # bigcorp's office (Cogent transit)


@dataclass(slots=True)
class Story:
    """A hand-made ticket: its upsert and its lines, and the message to read first."""

    ticket: dict[str, Any]
    message: str
    subject: str
    to: str
    lines: list[lines.Line] = field(default_factory=list)
    replies: int = 0

    def send(
        self, slug: str, subject: str, ts: float, links: list[str], *, delivered: bool = True
    ) -> str:
        message = f"<{slug}@{DOMAIN}>"
        sent = lines.sent(
            message,
            self.to,
            ts,
            ticket=self.ticket["id"],
            subject=subject,
            workflow=self.ticket["team"],
            links=links,
        )
        self.lines.append(sent)
        if delivered:
            self.lines.append(lines.delivered(message, self.to, ts + 0.6))
        self.replies += 1
        return message

    def hits(self, message: str, sent: float, *found: Hit) -> None:
        for hit in found:
            self.lines.append(lines.hit(message, self.to, replace_ts(hit, sent)))


def replace_ts(hit: Hit, sent: float) -> Hit:
    """``hit`` with its time (seconds after sending) made absolute."""
    return Hit(hit.kind, sent + hit.ts, hit.ip, hit.ua, hit.link, hit.headers)


def write_stories(clocks: Callable[[str], BusinessCalendar], now: float) -> list[Story]:
    """The five stories, timed back from ``now`` (the SSO one on its team's clock), sent
    on whole seconds."""
    now = float(math.floor(now))
    return [
        _refund(now),
        _single_sign_on(clocks("technical"), now),
        _workflow(now),
        _invoice(now),
        _vpn(now),
    ]


def _ticket(
    ident: str, team_name: str, subject: str, requester: str, **more: Any
) -> dict[str, Any]:
    agent = team(team_name).agent_emails[0]
    return {
        "id": ident,
        "subject": subject,
        "priority": "normal",
        "status": "pending",
        "team": team_name,
        "assignee": agent,
        "requester": requester,
        "source": "demo",
        **more,
    }


def _refund(now: float) -> Story:
    sent = now - 5 * HOUR
    to = "ann.berger@icloud.example"
    story = Story(
        _ticket("48213", "billing", "Where is my refund?", to, created_at=sent - 40 * MINUTE),
        "",
        "Your refund for order 48213",
        to,
    )
    links = [LINKS["refunds"].url, "https://app.acme.example/orders/48213"]
    story.message = story.send("demo-refund", story.subject, sent, links)
    story.hits(
        story.message,
        sent,
        Hit("open", 40, APPLE_RELAY, MPP),
        Hit("click", 2 * HOUR, "104.28.28.17", SAFARI_IOS, 0, {"accept-language": "de-DE"}),
    )
    story.ticket["updated_at"] = sent
    return story


def _single_sign_on(clock: BusinessCalendar, now: float) -> Story:
    """Two replies: the first read and answered, the second (sent more than a business
    day ago) touched by machines only."""
    second = float(math.floor(before(clock, now, clock.day_hours + 2)))
    first = float(math.floor(before(clock, second, 4)))
    to = "it-admin@bigcorp.example"
    story = Story(
        _ticket(
            "48230",
            "technical",
            "Setting up single sign-on",
            to,
            priority="high",
            created_at=first - 2 * HOUR,
        ),
        "",
        "Setting up single sign-on",
        to,
    )
    links = [LINKS["saml"].url, LINKS["scim"].url, LINKS["status"].url]
    story.message = story.send("demo-sso", "Re: Setting up single sign-on [#48230]", first, links)
    edge = browser_agent("edge", first, random.Random(48230))
    story.hits(
        story.message,
        first,
        *(Hit("click", 1.4 + 0.25 * i, f"40.94.3.{7 + 3 * i}", SAFE_LINKS[2], i) for i in range(3)),
        Hit("open", 25 * MINUTE, OFFICE, OUTLOOK_WINDOWS[0], None, {"accept-language": "en-US"}),
        Hit("click", 27 * MINUTE, OFFICE, edge, 0, {"accept-language": "en-US"}),
    )
    answered = first + min(3 * HOUR, (second - first) / 2)
    story.lines.append(lines.reply(story.message, to, answered))
    scim = story.send(
        "demo-sso-scim", "Re: Setting up single sign-on [#48230]", second, [LINKS["scim"].url]
    )
    story.hits(
        scim,
        second,
        Hit("click", 1.2, "40.94.3.40", SAFE_LINKS[2], 0),
        Hit("open", 38, APPLE_RELAY, MPP),
    )
    story.ticket["updated_at"] = second
    return story


def _workflow(now: float) -> Story:
    sent = now - 3 * HOUR
    to = "bob.tan@gmail.example"
    story = Story(
        _ticket("48241", "onboarding", "Setting up our first workflow", to, created_at=sent - HOUR),
        "",
        "Setting up your first workflow",
        to,
    )
    links = [LINKS["workflow"].url, LINKS["guide"].url]
    story.message = story.send("demo-workflow", story.subject, sent, links)
    story.hits(
        story.message,
        sent,
        *(Hit("open", after, f"66.249.84.{3 + n}", GMAIL_PROXY) for n, after in _OPENED),
    )
    story.ticket["updated_at"] = sent
    return story


_OPENED = tuple(enumerate((5 * MINUTE, 62 * MINUTE, 124 * MINUTE)))


def _invoice(now: float) -> Story:
    sent = now - 2 * HOUR
    to = "old.address@defunct.example"
    story = Story(
        _ticket("48250", "billing", "Invoice please", to, created_at=sent - 30 * MINUTE),
        "",
        "Your invoice",
        to,
    )
    story.message = story.send(
        "demo-invoice", story.subject, sent, [LINKS["invoice"].url], delivered=False
    )
    story.lines.append(lines.bounce(story.message, to, sent + 8, "5.1.1", "userunknown"))
    story.ticket["updated_at"] = sent
    return story


def _vpn(now: float) -> Story:
    sent = now - HOUR
    to = "carol.white@yahoo.example"
    subject = "VPN troubleshooting steps"
    story = Story(
        _ticket(
            "48262",
            "technical",
            "Cannot reach the app over VPN",
            to,
            priority="urgent",
            created_at=sent - 20 * MINUTE,
        ),
        "",
        subject,
        to,
    )
    story.message = story.send("demo-vpn", subject, sent, [LINKS["network"].url])
    story.hits(story.message, sent, Hit("open", 90, "98.136.1.1", YAHOO))
    back = datetime.fromtimestamp(now, UTC).date() + timedelta(days=6)
    story.lines.append(lines.autoreply(story.message, to, sent + 40, back))
    story.ticket["updated_at"] = sent
    return story


def before(clock: BusinessCalendar, end: float, hours: float) -> float:
    """The instant ``hours`` business hours before ``end`` on ``clock``."""
    wanted = hours * HOUR
    start = end - wanted
    while clock.between(start, end) < wanted:
        start -= HOUR
    return clock.add(start, clock.between(start, end) - wanted)
