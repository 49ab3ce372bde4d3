"""A ticket's timeline: every message sent on it and every signal about it, newest last,
each in plain words with who made it (a person, a machine and which, or nobody can tell),
the verdict's reasons and the evidence they rest on.

The words honour the verdicts: a machine's fetch is said to say nothing about reading and
never gets the word "read"; a hit nobody can tell apart is said to be so and not counted.
Machines are named with the words the readings use (``MACHINE_PHRASES``), mail that came
back with the sentence's own clauses (``mail_clause``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest

from inkling.classify.signatures import UserAgents
from inkling.model import Agent, Event, EventKind, MessageRecord, Verdict, fallback_agent
from inkling.signals.sentence import MACHINE_PHRASES, mail_clause
from inkling.store import Store
from inkling.tokens import HONEYPOT_LINK
from inkling.web.when import Moment, after_words, moment

#: Agents that fetch every image whether or not anyone looks: "a proxy fetch".
PROXIES = frozenset({Agent.APPLE_MPP, Agent.GMAIL_PREFETCH, Agent.YAHOO_PROXY, Agent.PREFETCH})
#: A mail's kinds said to come from a person (a reply, a complaint, a read receipt).
PERSONS_MAIL = frozenset({EventKind.REPLY, EventKind.COMPLAINT, EventKind.READ_RECEIPT})


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    points_to: str | None  # "machine", "person", "neither"; None if never weighed


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the timeline. ``who`` is what it is drawn as: "sent", "person",
    "machine", "unknown" or "mail"; ``help`` the anchor on /how-to-read."""

    when: Moment
    who: str
    text: str
    label: str
    url: str | None = None
    recipient: str | None = None
    reasons: tuple[Reason, ...] = ()
    evidence: tuple[tuple[str, str], ...] = ()
    help: str | None = None


def timeline(
    store: Store,
    copies: Sequence[MessageRecord],
    user_agents: UserAgents,
    *,
    at: float,
    zone: str,
) -> list[Line]:
    """The lines of ``copies`` (a ticket's sent copies) and their events up to ``at``,
    oldest first, times on the clock of ``zone``."""
    lines: list[tuple[float, int, Line]] = []
    several = len({c.recipient for c in copies}) > 1
    for group in _by_message(copies).values():
        lines.append((group[0].sent_at, 0, _sent(group, at, zone)))
        for copy in group:
            links = store.messages.links(copy.id)
            changed = {c.event for c in store.events.changes(copy.id)}
            for event in store.events.for_message(copy.id):
                if event.ts > at:
                    continue
                line = _signal(event, copy, links, user_agents, at, zone, event.id in changed)
                if several:
                    line = replace(line, recipient=copy.recipient or None)
                lines.append((event.ts, 1, line))
    return [line for _, _, line in sorted(lines, key=lambda entry: (entry[0], entry[1]))]


def _by_message(copies: Sequence[MessageRecord]) -> dict[str, list[MessageRecord]]:
    grouped: dict[str, list[MessageRecord]] = {}
    for copy in copies:
        grouped.setdefault(copy.message_id, []).append(copy)
    return grouped


def _sent(group: list[MessageRecord], at: float, zone: str) -> Line:
    """ "You sent "Re: Charged twice" to ana@customer.example (2 links)"."""
    first = group[0]
    to = ", ".join(dict.fromkeys(c.recipient for c in group if c.recipient)) or "its recipients"
    links = first.links_total
    text = f"You sent “{first.subject or '(no subject)'}” to {to}"
    text += f" ({links} link{'' if links == 1 else 's'})" if links else ""
    untracked = [c for c in group if c.tracking != "full"]
    if untracked:
        why = untracked[0].untracked or "policy"
        how = "only links tracked" if untracked[0].tracking == "clicks" else "not tracked"
        text += f"; {how} ({why}), so silence says less"
    return Line(moment(first.sent_at, zone, at), "sent", text + ".", "Sent")


def _signal(
    event: Event,
    copy: MessageRecord,
    links: list[str],
    user_agents: UserAgents,
    at: float,
    zone: str,
    judged_again: bool,
) -> Line:
    when = moment(event.ts, zone, at)
    reasons = tuple(
        Reason(text, leaning)
        for text, leaning in zip_longest(event.reasons, event.leanings)
        if text is not None
    )
    evidence = _evidence(event, copy, judged_again)
    if not event.is_hit:
        return _mail(event, when, reasons, evidence)
    url = _url(event, links)
    if event.verdict == Verdict.HUMAN:
        text, help_anchor = _persons(event, user_agents)
        return Line(when, "person", text, "Person", url, None, reasons, evidence, help_anchor)
    if event.verdict == Verdict.MACHINE:
        text, label, help_anchor = _machines(event)
        return Line(when, "machine", text, label, url, None, reasons, evidence, help_anchor)
    what = "fetched the images" if event.kind == EventKind.OPEN else "followed a link"
    text = f"Something {what}: it could be a person or a machine, so it does not count."
    return Line(when, "unknown", text, "Not told apart", url, None, reasons, evidence, "unknown")


def _persons(event: Event, user_agents: UserAgents) -> tuple[str, str]:
    if event.kind == EventKind.CLICK:
        return "A person followed a link.", "click"
    if event.agent == Agent.GMAIL_PROXY:
        return "A person opened it (in Gmail, whose proxy fetched the images).", "open"
    found = user_agents.lookup(event.user_agent, "open") if event.user_agent else None
    client = f" in {found.client}" if found is not None and found.client else ""
    return f"A person opened it{client}.", "open"


def _machines(event: Event) -> tuple[str, str, str]:
    """The words, the label and the help anchor of a machine's hit."""
    agent = event.agent or fallback_agent(Verdict.MACHINE, event.kind) or Agent.SCRIPT
    _noun, who = MACHINE_PHRASES.get(agent.value, ("hit", agent.value.replace("_", " ")))
    if event.link == HONEYPOT_LINK:
        did = "followed the hidden link no person can see"
    elif event.kind == EventKind.OPEN:
        did = "fetched the images"
    else:
        did = "checked a link"
    text = f"{who[0].upper()}{who[1:]} {did}. Says nothing about reading."
    anchor = "proxy" if agent in PROXIES else "scanner"
    return text, f"Machine: {who}", anchor


def _mail(
    event: Event,
    when: Moment,
    reasons: tuple[Reason, ...],
    evidence: tuple[tuple[str, str], ...],
) -> Line:
    said = mail_clause(event)
    text = f"{said[0].upper()}{said[1:]}."
    person = event.kind in PERSONS_MAIL and event.verdict == Verdict.HUMAN
    who, label = ("person", "Person") if person else ("mail", "Mail")
    if event.kind == EventKind.READ_RECEIPT and not person:
        who, label = "unknown", "Not told apart"
    anchor = "receipt" if event.kind == EventKind.READ_RECEIPT else "mail"
    return Line(when, who, text, label, None, None, reasons, evidence, anchor)


def _url(event: Event, links: list[str]) -> str | None:
    if event.link is None or event.link == HONEYPOT_LINK:
        return None
    return links[event.link] if 0 <= event.link < len(links) else None


def _evidence(event: Event, copy: MessageRecord, judged_again: bool) -> tuple[tuple[str, str], ...]:
    """What the verdict rests on, for the curious: timing, user agent, network, headers."""
    delay = after_words(event.ts - copy.sent_at)
    shown: list[tuple[str, str]] = [("Timing", f"{delay} after sending")]
    if event.is_hit:
        shown.append(("User agent", event.user_agent or "(none sent)"))
        if event.network:
            shown.append(("Network", event.network))
        if event.ip:
            shown.append(("Address (shortened)", event.ip))
        shown.append(("Request", event.method))
        shown += [(name.title(), value) for name, value in sorted(event.evidence.items())]
    else:
        shown.append(("Came by", event.method))
        shown += [(name.replace("-", " ").title(), value) for name, value in event.details.items()]
    if judged_again:
        shown.append(("Judged again", "later hits on this message changed the verdict"))
    return tuple(shown)
