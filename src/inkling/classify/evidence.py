"""What one hit says on its own: user agent, network, method, headers and timing.

Each piece of evidence carries a weight (> 0 toward a machine, < 0 toward a person), the
agent it points at if it names one, and a reason in plain words. Nothing here decides: the
classifier adds the weights of a hit and of its message's sequence (classify/sequence.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from inkling.classify.browsers import staleness
from inkling.classify.hit import Hit
from inkling.classify.ranges import Networks, parse_address
from inkling.classify.signatures import LateFetch, Signature, UserAgents
from inkling.model import Agent

PREFETCH_HEADERS = ("purpose", "sec-purpose", "x-purpose", "x-moz")
#: Where an import keeps an email service's own machine flag ("sendgrid: true").
PROVIDER_FLAG = "x-provider-bot"
PREFETCH_WORDS = ("prefetch", "preview", "prerender")
DATA_CENTRES = frozenset({"microsoft", "amazon", "google", "googlebot"})

#: What each published network says about a hit, by kind: (weight, agent, reason).
#: A click through Private Relay says nothing: real Safari users come that way.
NETWORK_EVIDENCE: dict[tuple[str, str], tuple[float, Agent | None, str]] = {
    ("apple_relay", "open"): (
        1.5,
        Agent.APPLE_MPP,
        "the address is in Apple's iCloud Private Relay egress ranges, "
        "through which Mail Privacy Protection fetches",
    ),
    ("apple_relay", "click"): (
        0.0,
        None,
        "the address is in Apple's iCloud Private Relay ranges, as real Safari users' are",
    ),
    ("google", "open"): (1.0, None, "the address is in Google's published ranges"),
    ("google", "click"): (
        2.0,
        Agent.SCANNER,
        "the address is in Google's published ranges (its cloud), not a person's network",
    ),
    ("googlebot", "open"): (4.0, Agent.SCRIPT, "the address is in Google's crawler ranges"),
    ("googlebot", "click"): (4.0, Agent.SCRIPT, "the address is in Google's crawler ranges"),
    ("microsoft", "open"): (1.0, None, "the address is in Microsoft's published ranges"),
    ("microsoft", "click"): (
        2.0,
        Agent.SAFELINKS,
        "the address is in Microsoft's published ranges, "
        "where Defender Safe Links opens links to check them",
    ),
    ("amazon", "open"): (
        2.0,
        None,
        "the address is in Amazon Web Services' ranges: a server, not a person's network",
    ),
    ("amazon", "click"): (
        2.0,
        Agent.SCANNER,
        "the address is in Amazon Web Services' ranges: a server, not a person's network",
    ),
}


class Evidence(NamedTuple):
    """One clue. (A named tuple: made several times a hit, and cheaper than a frozen
    dataclass to make and to hash.)"""

    weight: float
    reason: str
    agent: Agent | None = None


_Add = Callable[[Evidence], None]

#: What each service's flag says, by its word (research/signals.md): SendGrid's
#: ``sg_machine_open`` covers Apple's privacy proxy only; Mailgun's ``client-info.bot`` is
#: "apple", "gmail" or "generic". Gmail's proxy fetches when the person opens (signals.md:
#: the libraries that call it a bot lose real opens), so Mailgun's "gmail" adds nothing.
PROVIDER_FLAGS: dict[str, Evidence | None] = {
    "sendgrid: true": Evidence(
        6, "SendGrid flagged it as a machine open (Apple's privacy proxy)", Agent.APPLE_MPP
    ),
    "mailgun: apple": Evidence(
        6, "Mailgun flagged it as Apple's privacy proxy fetching", Agent.APPLE_MPP
    ),
    "mailgun: generic": Evidence(4, "Mailgun flagged it as a machine (a bot)", Agent.SCRIPT),
    "mailgun: gmail": None,
}


@dataclass(slots=True)
class Facts:
    """One hit with what it says on its own, kept for judging its message's sequence."""

    hit: Hit
    signature: Signature | None
    network: str | None
    source: str | None  # where it came from: a published network, or the address's /16 or /32
    evidence: list[Evidence] = field(default_factory=list)
    score: float = 0.0  # the sum of the evidence's weights, set once it is all in


def hit_facts(
    hit: Hit, user_agents: UserAgents, networks: Networks, *, network: str | None = None
) -> Facts:
    """Everything ``hit`` says by itself. ``network`` is the published network of the
    hit's whole address when it was looked up before the address was truncated ("": in
    none); without it, ``hit.ip`` is looked up.

    What a hit says apart from its timing depends on few things that repeat (its user
    agent, kind, method, network, a prefetch header, the day), so that part is worked out
    once per combination (:func:`_standing`); only the timing is new for every hit."""
    if network is None:
        network, source = networks.locate(hit.ip) if hit.ip else (None, None)
    else:
        network = network or None
        source = network or (_source_of(hit.ip) if hit.ip else None)
    prefetch = bool(hit.headers) and _prefetch(hit.headers)
    day = int(hit.ts // 86400) if hit.ua else 0
    signature, standing, score = _standing(
        user_agents, networks.snapshot, hit.ua, hit.kind, network, hit.method, prefetch,
        hit.honeypot, day,
    )  # fmt: skip
    facts = Facts(hit, signature, network, source, list(standing), score)
    flagged = PROVIDER_FLAGS.get(hit.headers.get(PROVIDER_FLAG, "")) if hit.headers else None
    if flagged is not None:  # only imports carry it
        facts.evidence.append(flagged)
        facts.score += flagged.weight
    if hit.sent_at is None:
        return facts
    if hit.kind == "click":
        timing: list[Evidence] = []
        _timing(hit, network, timing.append)
        if timing:
            facts.evidence += timing
            facts.score += sum(map(WEIGHT, timing))
    elif signature is not None and signature.late is not None:
        late = _late_fetch(hit.ts - hit.sent_at, signature.late)
        if late is not None:
            facts.evidence.append(late)
            facts.score += late.weight
    return facts


#: An Evidence's weight, in C (``sum(map(WEIGHT, found))`` runs no bytecode per item).
WEIGHT = itemgetter(0)


@lru_cache(maxsize=8192)
def _standing(
    user_agents: UserAgents,
    snapshot: str,
    ua: str | None,
    kind: str,
    network: str | None,
    method: str,
    prefetch: bool,
    honeypot: bool,
    day: int,
) -> tuple[Signature | None, tuple[Evidence, ...], float]:
    """The signature, the evidence and its score of a hit, but for what depends on its
    exact time."""
    signature = user_agents.lookup(ua, kind) if ua else None
    found: list[Evidence] = []
    add = found.append
    if honeypot:
        add(Evidence(8, "followed the hidden link that no person can see or reach"))
    _user_agent(ua, day * 86400.0, signature, add)
    if method == "HEAD":
        add(Evidence(6, "a HEAD request, which asks about the resource without fetching it"))
    if prefetch:
        add(
            Evidence(
                6, "the request says it is a prefetch, made before anyone looks", Agent.PREFETCH
            )
        )
    if network is not None:
        _network(kind, network, signature, snapshot, add)
    return signature, tuple(found), sum(map(WEIGHT, found))


def _user_agent(ua: str | None, day: float, signature: Signature | None, add: _Add) -> None:
    if not ua or not ua.strip():
        add(Evidence(4, "no user agent: a program, not a mail client or browser"))
        return
    if signature is None:
        return
    add(Evidence(signature.weight, signature.reason, signature.agent))
    if signature.agent is Agent.BROWSER:
        stale = staleness(ua, day)
        if stale is not None:
            add(Evidence(1.5, stale + "; people's browsers update themselves"))


def _network(
    kind: str, network: str, signature: Signature | None, snapshot: str, add: _Add
) -> None:
    if network == "google" and signature is not None and signature.agent is Agent.GMAIL_PROXY:
        return  # that is where Gmail's proxy lives: it adds nothing
    weight, agent, reason = NETWORK_EVIDENCE[(network, kind)]
    add(Evidence(weight, f"{reason} (ranges of {snapshot})", agent))


def _timing(hit: Hit, network: str | None, add: _Add) -> None:
    since = hit.since_send
    if since is None or hit.kind != "click":
        return
    if since < 3:
        add(Evidence(1.5, f"clicked {_seconds(since)} after sending, before mail is usually read"))
    elif since < 10:
        add(Evidence(0.5, f"clicked {_seconds(since)} after sending"))
    elif since >= 600:
        add(Evidence(-0.5, f"clicked {_duration(since)} after sending, not at delivery"))
    if since < 10 and network in DATA_CENTRES:
        add(Evidence(1.5, "seconds after sending and from a data centre, as link scanners click"))


def _late_fetch(since: float, late: LateFetch) -> Evidence | None:
    """The signature's word on a fetch ``since`` seconds after sending, if that is late."""
    if since < late.after:
        return None
    return Evidence(late.weight, f"{late.reason} ({_duration(since)} after sending)")


def _prefetch(headers: Mapping[str, str]) -> bool:
    if headers.keys().isdisjoint(PREFETCH_HEADERS):  # the common case, in C
        return False
    for name in PREFETCH_HEADERS:
        value = headers.get(name)
        if value and any(word in value.lower() for word in PREFETCH_WORDS):
            return True
    return False


def _seconds(since: float) -> str:
    return f"{max(since, 0):.1f} s"


def _duration(since: float) -> str:
    if since < 3600:
        return f"{since / 60:.0f} min"
    if since < 86400:
        return f"{since / 3600:.1f} h"
    return f"{since / 86400:.1f} days"


@lru_cache(maxsize=65536)
def _source_of(ip: str) -> str | None:
    """Where a hit came from when its address is in no published network: its /16 (IPv4)
    or /32 (IPv6), which truncation to /24 or /48 keeps. Hits of one scanner share it."""
    address = parse_address(ip)
    if address is None:
        return None
    version, value = address
    return f"v4 {value >> 16:x}" if version == 4 else f"v6 {value >> 96:x}"
