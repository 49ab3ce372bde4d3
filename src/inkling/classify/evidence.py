"""What one hit says on its own: user agent, network, method, headers and timing.

Each piece of evidence carries a weight (> 0 toward a machine, < 0 toward a person), the
agent it points at if it names one, and a reason in plain words. Nothing here decides: the
classifier adds the weights of a hit and of its message's sequence (classify/sequence.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from inkling.classify.browsers import staleness
from inkling.classify.hit import Hit
from inkling.classify.ranges import Networks
from inkling.classify.signatures import Signature, UserAgents

PREFETCH_HEADERS = ("purpose", "sec-purpose", "x-purpose", "x-moz")
PREFETCH_WORDS = ("prefetch", "preview", "prerender")
DATA_CENTRES = frozenset({"microsoft", "amazon", "google", "googlebot"})

#: What each published network says about a hit, by kind: (weight, agent, reason).
#: A click through Private Relay says nothing: real Safari users come that way.
NETWORK_EVIDENCE: dict[tuple[str, str], tuple[float, str | None, str]] = {
    ("apple_relay", "open"): (
        1.5,
        "apple_mpp",
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
        "scanner",
        "the address is in Google's published ranges (its cloud), not a person's network",
    ),
    ("googlebot", "open"): (4.0, "script", "the address is in Google's crawler ranges"),
    ("googlebot", "click"): (4.0, "script", "the address is in Google's crawler ranges"),
    ("microsoft", "open"): (1.0, None, "the address is in Microsoft's published ranges"),
    ("microsoft", "click"): (
        2.0,
        "scanner:safelinks",
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
        "scanner",
        "the address is in Amazon Web Services' ranges: a server, not a person's network",
    ),
}


class Evidence(NamedTuple):
    """One clue. (A named tuple: made several times a hit, and cheaper than a frozen
    dataclass to make and to hash.)"""

    weight: float
    reason: str
    agent: str | None = None


_Add = Callable[[Evidence], None]


@dataclass(slots=True)
class Facts:
    """One hit with what it says on its own, kept for judging its message's sequence."""

    hit: Hit
    signature: Signature | None
    network: str | None
    source: str | None  # where it came from: a published network, or the address's /16 or /32
    evidence: list[Evidence] = field(default_factory=list)
    score: float = 0.0  # the sum of the evidence's weights, set once it is all in


def hit_facts(hit: Hit, user_agents: UserAgents, networks: Networks) -> Facts:
    """Everything ``hit`` says by itself."""
    signature = user_agents.lookup(hit.ua, hit.kind) if hit.ua else None
    network, source = networks.locate(hit.ip) if hit.ip else (None, None)
    facts = Facts(hit, signature, network, source)
    add = facts.evidence.append
    if hit.honeypot:
        add(Evidence(8, "followed the hidden link that no person can see or reach"))
    _user_agent(hit, signature, add)
    if hit.method == "HEAD":
        add(Evidence(6, "a HEAD request, which asks about the resource without fetching it"))
    if hit.headers and _prefetch(hit.headers):
        add(Evidence(6, "the request says it is a prefetch, made before anyone looks", "prefetch"))
    if network is not None:
        _network(hit, network, signature, networks.snapshot, add)
    _timing(hit, network, add)
    facts.score = sum(e.weight for e in facts.evidence)
    return facts


def _user_agent(hit: Hit, signature: Signature | None, add: _Add) -> None:
    if not hit.ua or not hit.ua.strip():
        add(Evidence(4, "no user agent: a program, not a mail client or browser"))
        return
    if signature is None:
        return
    add(Evidence(signature.weight, signature.reason, signature.agent))
    if signature.agent == "browser":
        stale = staleness(hit.ua, hit.ts)
        if stale is not None:
            add(Evidence(1.5, stale + "; people's browsers update themselves"))


def _network(hit: Hit, network: str, signature: Signature | None, snapshot: str, add: _Add) -> None:
    if network == "google" and signature is not None and signature.agent == "gmail_proxy":
        return  # that is where Gmail's proxy lives: it adds nothing
    weight, agent, reason = NETWORK_EVIDENCE[(network, hit.kind)]
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


def _prefetch(headers: Mapping[str, str]) -> bool:
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
