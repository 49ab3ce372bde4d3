"""Demo data for ``inkling demo``: five support replies and what happened to each.

Each story is one thing a support team sees every day: Apple's privacy proxy fetching
every image, Safe Links clicking every link at delivery, a Gmail reader who opens and
opens again, a bounce, an out-of-office. The messages are instrumented and the hits judged
by the same code as real ones (the tracker's recorder, the inbound parser), so every
reading shows what Inkling really concludes. Seeding is idempotent: the demo messages are
recognised by their Message-IDs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from inkling.classify import Classifier
from inkling.classify.batch import BatchJudge
from inkling.errors import UnknownMessage
from inkling.inbound.recording import InboundRecorder
from inkling.model import (
    Event,
    EventKind,
    MessageRecord,
    Priority,
    Status,
    Ticket,
    new_event_id,
)
from inkling.privacy.ip import truncate_ip
from inkling.relay import CopyPlan, Outbound
from inkling.root import Services
from inkling.tokens import HONEYPOT_LINK, new_message_id

DOMAIN = "demo.inkling.example"

# User agents and addresses as the real fetchers send them (docs/signals.md).
MPP, APPLE_RELAY = "Mozilla/5.0", "172.225.6.9"
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
GMAIL_PROXY = "66.249.84.3"
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
SAFE_LINKS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/101.0.4951.64 Safari/537.36"
)
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
OFFICE = "198.51.100.23"  # a company's own network (documentation range)


@dataclass(frozen=True)
class StoryHit:
    after: float  # seconds after sending
    kind: EventKind
    ip: str
    ua: str
    link: int | None = None


@dataclass(frozen=True)
class Story:
    slug: str
    subject: str
    to: str
    ticket: str
    links: tuple[str, ...]
    sent_ago: float  # seconds before now
    priority: Priority = Priority.NORMAL
    hits: tuple[StoryHit, ...] = ()
    inbound: tuple[str, ...] = ()  # "reply", "bounce" or "autoreply"

    @property
    def message_id(self) -> str:
        return f"<{self.slug}@{DOMAIN}>"


STORIES = (
    Story(
        "demo-refund",
        "Your refund for order 48213",
        "ann@customer.example",
        "48213",
        ("https://help.acme.example/refunds", "https://acme.example/orders/48213"),
        sent_ago=5 * 3600,
        hits=(
            StoryHit(40, EventKind.OPEN, APPLE_RELAY, MPP),
            StoryHit(2 * 3600, EventKind.CLICK, APPLE_RELAY, SAFARI, link=0),
        ),
    ),
    Story(
        "demo-sso",
        "Setting up single sign-on",
        "it-admin@bigcorp.example",
        "48230",
        (
            "https://help.acme.example/sso/saml",
            "https://help.acme.example/sso/scim",
            "https://status.acme.example",
        ),
        sent_ago=4 * 3600,
        priority=Priority.HIGH,
        hits=(
            StoryHit(1.4, EventKind.CLICK, "40.94.3.7", SAFE_LINKS, link=0),
            StoryHit(1.7, EventKind.CLICK, "40.94.3.9", SAFE_LINKS, link=1),
            StoryHit(1.9, EventKind.CLICK, "40.94.3.12", SAFE_LINKS, link=2),
            StoryHit(2.1, EventKind.CLICK, "40.94.3.12", SAFE_LINKS, link=HONEYPOT_LINK),
            StoryHit(25 * 60, EventKind.OPEN, OFFICE, OUTLOOK),
        ),
        inbound=("reply",),
    ),
    Story(
        "demo-password",
        "Reset your password",
        "bob@gmail.example",
        "48241",
        ("https://acme.example/account/reset",),
        sent_ago=3 * 3600,
        hits=(
            StoryHit(5 * 60, EventKind.OPEN, GMAIL_PROXY, GMAIL),
            StoryHit(3600, EventKind.OPEN, GMAIL_PROXY, GMAIL),
            StoryHit(2 * 3600, EventKind.OPEN, GMAIL_PROXY, GMAIL),
        ),
    ),
    Story(
        "demo-invoice",
        "Your invoice",
        "old.address@defunct.example",
        "48250",
        ("https://acme.example/billing",),
        sent_ago=2 * 3600,
        inbound=("bounce",),
    ),
    Story(
        "demo-vpn",
        "VPN troubleshooting steps",
        "carol@yahoo.example",
        "48262",
        ("https://help.acme.example/vpn",),
        sent_ago=3600,
        priority=Priority.URGENT,
        hits=(StoryHit(90, EventKind.OPEN, "98.136.1.1", YAHOO),),
        inbound=("autoreply",),
    ),
)


@dataclass
class Seeded:
    stories: list[tuple[Story, str]] = field(default_factory=list)  # (story, Inkling id)
    already: bool = False


def seed(services: Services, outbound: Outbound, classifier: Classifier) -> Seeded:
    """Register the demo messages and record what happened to them, unless done before.

    The messages go through ``outbound`` as any instrumented mail does, their hits are
    judged by the loader's judge and their mail read by the inbound recorder."""
    store = services.store
    try:
        store.messages.find(STORIES[0].message_id)
    except UnknownMessage:
        pass
    else:
        return Seeded([(s, store.messages.find(s.message_id).id) for s in STORIES], True)
    judge = BatchJudge(classifier)
    inbound = InboundRecorder(store, services.codec, None, via="IMAP")
    seeded = Seeded()
    now = time.time()
    for story in STORIES:
        message = _send(outbound, story, int(now - story.sent_ago))
        for hit in story.hits:
            event = _event(message, hit, classifier)
            judged = judge.judge([event], event.ts)
            store.events.insert([event], judged.changes)
            judged.commit()
        for kind in story.inbound:
            inbound.deliver(_INBOUND[kind](story, now))
        store.tickets.upsert(_ticket(story, now))
        seeded.stories.append((story, message.id))
    return seeded


def _ticket(story: Story, now: float) -> Ticket:
    opened = now - story.sent_ago - 15 * 60
    return Ticket(
        id=story.ticket,
        priority=story.priority,
        status=Status.OPEN,
        created_at=opened,
        updated_at=now - story.sent_ago,
        subject=story.subject,
        team="default",
        assignee="sam@acme.example",
        requester=story.to,
        source="demo",
    )


def _send(outbound: Outbound, story: Story, sent_at: int) -> MessageRecord:
    plan = CopyPlan(new_message_id(), sent_at, [story.to])
    (copy,) = outbound.register(
        _mime(story), f"support@{DOMAIN}", [plan], workflow="support", ticket=story.ticket
    )
    return copy.record


def _event(message: MessageRecord, hit: StoryHit, classifier: Classifier) -> Event:
    """A hit as the tracker records it: the address truncated, its published network
    looked up from the whole one."""
    return Event(
        id=new_event_id(),
        message=message.id,
        kind=hit.kind,
        ts=message.sent_at + hit.after,
        method="GET",
        sent_at=message.sent_at,
        link=hit.link,
        ip=truncate_ip(hit.ip),
        network=classifier.networks.locate(hit.ip)[0] or "",
        user_agent=hit.ua,
        evidence={"accept-language": "en-GB,en;q=0.9"} if hit.ua in (SAFARI, OUTLOOK) else {},
    )


def _mime(story: Story) -> bytes:
    links = "".join(f'<li><a href="{url}">{url}</a></li>' for url in story.links)
    return (
        f"From: Acme Support <support@{DOMAIN}>\r\nTo: {story.to}\r\n"
        f"Subject: {story.subject}\r\nMessage-ID: {story.message_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"<html><body><p>Hello,</p><p>Here is what will help:</p><ul>{links}</ul>"
        "<p>Best regards,<br>Acme Support</p></body></html>\r\n"
    ).encode()


def _reply(story: Story, now: float) -> bytes:
    return (
        f"From: {story.to}\r\nTo: support@{DOMAIN}\r\nSubject: Re: {story.subject}\r\n"
        f"Message-ID: <reply-{story.slug}@bigcorp.example>\r\n"
        f"In-Reply-To: {story.message_id}\r\nReferences: {story.message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Thanks, SAML works now. Do we also need SCIM for the new starters?\r\n"
    ).encode()


def _bounce(story: Story, now: float) -> bytes:
    boundary = "demo-dsn"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.{DOMAIN}>\r\n"
        f"To: support@{DOMAIN}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.{DOMAIN}\r\n\r\n"
        f"Final-Recipient: rfc822; {story.to}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{story.to}>: Recipient address rejected: "
        "User unknown\r\n"
        f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {story.message_id}\r\nSubject: {story.subject}\r\n"
        f"\r\n--{boundary}--\r\n"
    ).encode()


def _autoreply(story: Story, now: float) -> bytes:
    back = datetime.fromtimestamp(now + 6 * 86400, UTC).strftime("%d %B %Y").lstrip("0")
    return (
        f"From: {story.to}\r\nTo: support@{DOMAIN}\r\n"
        f"Subject: Out of Office: {story.subject}\r\nAuto-Submitted: auto-replied\r\n"
        f"Message-ID: <ooo-{story.slug}@yahoo.example>\r\nIn-Reply-To: {story.message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"I am out of the office until {back} with limited access to email.\r\n"
    ).encode()


_INBOUND: dict[str, Callable[[Story, float], bytes]] = {
    "reply": _reply,
    "bounce": _bounce,
    "autoreply": _autoreply,
}
