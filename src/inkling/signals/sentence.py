"""The honest sentence of a reading: what people did, and what machines did that says
nothing about reading.

"Opened by a person on 2 occasions (Outlook); 3 fetches by Apple's privacy proxy say
nothing about reading."
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from inkling.classify.signatures import UserAgents
from inkling.model import Event, EventKind, Verdict, fallback_agent

#: What a machine agent did, as (noun for one hit, who): "3 fetches by Apple's privacy proxy".
MACHINE_PHRASES = {
    "apple_mpp": ("fetch", "Apple's privacy proxy"),
    "gmail_prefetch": ("fetch", "Gmail at delivery"),
    "yahoo_proxy": ("fetch", "Yahoo's proxy"),
    "prefetch": ("prefetch", "a mail or browser prefetch"),
    "scanner:safelinks": ("link check", "Microsoft Defender Safe Links"),
    "scanner:proofpoint": ("link check", "Proofpoint"),
    "scanner:mimecast": ("link check", "Mimecast"),
    "scanner:barracuda": ("link check", "Barracuda"),
    "scanner": ("link check", "security scanners"),
    "link_preview": ("link preview", "chat apps"),
    "script": ("request", "scripts"),
}
NOUN_PLURALS = {"fetch": "fetches"}


HITS = (EventKind.OPEN, EventKind.CLICK)


def sentence(events: Sequence[Event], user_agents: UserAgents) -> str:
    """A few clauses a support agent can read aloud, claiming no more than the verdicts
    do: what came back by mail first (a reply says most), then opens and clicks."""
    if not events:
        return "No opens or clicks recorded yet."
    mail = [e for e in events if e.kind not in HITS]
    hits = [e for e in events if e.kind in HITS]
    human = [e for e in hits if e.verdict == Verdict.HUMAN]
    people = [c for c in (_replies(mail), _opens(human, user_agents), _clicks(human)) if c]
    clauses = people or ["no sign of a person yet"]
    clauses += _other_mail(mail)
    machine = _machines([e for e in hits if e.verdict == Verdict.MACHINE])
    unknown = [e for e in hits if e.verdict == Verdict.UNKNOWN]
    if unknown:
        clauses.append(f"{_count(len(unknown), 'hit')} could be a person or a machine")
    if machine:
        clauses.append(machine)
    text = "; ".join(clauses) + "."
    return text[0].upper() + text[1:]


def mail_clause(event: Event) -> str:
    """What one mail that came back says, in the sentence's own words ("the customer
    replied", "it bounced (5.1.1 ...): nobody will read it"): a timeline's line."""
    said = _replies([event]) or next(iter(_other_mail([event])), "")
    return said or f"a {event.kind.value} came back"


def _replies(mail: list[Event]) -> str:
    replies = [e for e in mail if e.kind == EventKind.REPLY]
    if not replies:
        return ""
    return "the customer replied" + ("" if len(replies) == 1 else f" {len(replies)} times")


def _other_mail(mail: list[Event]) -> list[str]:
    """Read receipts, complaints, bounces, auto-replies and delivery reports, newest last."""
    said: list[str] = []
    for e in mail:
        details = e.details
        if e.kind == EventKind.READ_RECEIPT:
            said.append(f"a read receipt says {details.get('disposition', 'displayed')}")
        elif e.kind == EventKind.COMPLAINT:
            said.append("the recipient reported it as spam")
        elif e.kind == EventKind.BOUNCE and details.get("class") == "hard":
            why = " ".join(v for v in (details.get("status"), details.get("reason")) if v)
            said.append(f"it bounced ({why}): nobody will read it" if why else "it bounced")
        elif e.kind == EventKind.BOUNCE:
            said.append(f"delivery was delayed ({details.get('status', '4.0.0')})")
        elif e.kind == EventKind.AUTOREPLY:
            until = details.get("until")
            said.append("an automatic reply came back" + (f" (back {until})" if until else ""))
        elif e.kind == EventKind.DELIVERED:
            said.append("the receiving server confirmed delivery")
    return list(dict.fromkeys(said))


def _opens(human: list[Event], user_agents: UserAgents) -> str:
    opens = [e for e in human if e.kind == EventKind.OPEN]
    if not opens:
        return ""
    times = "once" if len(opens) == 1 else f"on {len(opens)} occasions"
    clients = _clients(opens, user_agents)
    return f"opened by a person {times}" + (f" ({', '.join(clients)})" if clients else "")


def _clicks(human: list[Event]) -> str:
    clicks = [e for e in human if e.kind == EventKind.CLICK]
    if not clicks:
        return ""
    links = len({e.link for e in clicks})
    text = f"a person followed {_count(links, 'link')}"
    if len(clicks) > links:
        text += f" ({_count(len(clicks), 'click')})"
    return text


def _machines(machine: list[Event]) -> str:
    if not machine:
        return ""
    # Events stored before they had agents get the one the classifier would name.
    by_agent = Counter(
        str(e.agent or fallback_agent(Verdict.MACHINE, e.kind) or "script") for e in machine
    )
    parts = []
    for agent, n in by_agent.most_common():
        noun, who = MACHINE_PHRASES.get(agent, ("hit", agent.replace("_", " ")))
        parts.append(f"{_count(n, noun)} by {who}")
    verb = "says" if len(machine) == 1 else "say"
    return f"{_join(parts)} {verb} nothing about reading"


def _clients(opens: list[Event], user_agents: UserAgents) -> list[str]:
    found: dict[str, None] = {}
    for e in opens:
        signature = user_agents.lookup(e.user_agent, "open") if e.user_agent else None
        if signature is not None and signature.client:
            found.setdefault(signature.client)
    return list(found)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun if n == 1 else NOUN_PLURALS.get(noun, noun + 's')}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
