"""What a message's hits say together: bursts, sweeps, order, and later proof of a person.

A scanner gives itself away by what it does to the whole message: it follows every link
within seconds, from several addresses of one network, sometimes the hidden honeypot link
too, and before any open. A person gives themselves away later: a click from the same
network, an open followed by a click. Timing adds weight to other evidence; it never makes
a person a machine by itself.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from inkling.classify.evidence import Evidence, Facts
from inkling.classify.hit import Hit

HONEYPOT_WINDOW = 30.0  # seconds either side of a honeypot hit that count as its burst
BURST_GAP = 5.0  # clicks this close together, from one source, form a burst
QUICK_CLICK = 10.0  # a click this soon after sending with no open before it
UPGRADE_WINDOW = 1800.0  # a person's hit this close makes an uncertain hit a person's
#: A sweep of links that starts this long after sending weighs half: gateways "click every
#: link within seconds of delivery" (research/signals.md, practitioners' reports; Safe Links
#: scans "prior to delivery"), while a person opening both links in tabs can do it at any
#: time. (The same 10 minutes as a click's "not at delivery"; scripts and link previews,
#: which come at any time, give themselves away by their user agents.)
LATE_SWEEP = 600.0
MACHINE_AT = 3.0
HUMAN_AT = -1.0


def sequence_evidence(facts: Sequence[Facts]) -> list[list[Evidence]]:
    """Extra evidence for each of ``facts`` (one message's hits), in the same order."""
    extra: list[list[Evidence]] = [[] for _ in facts]
    order = sorted(range(len(facts)), key=[f.hit.ts for f in facts].__getitem__)
    _honeypot_bursts(facts, order, extra)
    _click_bursts(facts, order, extra)
    _click_before_open(facts, order, extra)
    return extra


def upgrades(facts: Sequence[Facts], scores: Sequence[float]) -> list[Evidence | None]:
    """For each hit left uncertain, evidence from a person's hit close to it, if any.

    An uncertain open followed by a person's hit within half an hour was the person's; an
    uncertain click next to a person's hit from the same network was too. Machine verdicts
    are never reversed. (The people's hits are looked up by time, so a message with
    thousands of hits costs no more than its hits near each other.)
    """
    result: list[Evidence | None] = [None] * len(facts)
    people = sorted((facts[j].hit.ts, j) for j in range(len(facts)) if scores[j] <= HUMAN_AT)
    if not people:
        return result
    times = [ts for ts, _ in people]
    for i, mine in enumerate(facts):
        if not HUMAN_AT < scores[i] < MACHINE_AT:
            continue
        ts = mine.hit.ts
        is_open = mine.hit.kind == "open"
        start = bisect_left(times, ts if is_open else ts - UPGRADE_WINDOW)
        end = bisect_right(times, ts + UPGRADE_WINDOW)
        for _, j in people[start:end]:
            other = facts[j]
            if is_open:
                gap = other.hit.ts - ts
                result[i] = Evidence(-2, f"a person {_past(other)} {_gap(gap)} later")
                break
            if mine.hit.kind == "click" and _same_source(mine, other):
                result[i] = Evidence(-2, f"a person {_past(other)} from the same network")
                break
    return result


def _honeypot_bursts(facts: Sequence[Facts], order: list[int], extra: list[list[Evidence]]) -> None:
    """Hits close to a honeypot hit and from the same source (or, weaker, with the same
    user agent) belong to its burst."""
    traps = [i for i in order if facts[i].hit.honeypot]  # in time order, as ``order`` is
    if not traps:
        return
    trap_times = [facts[t].hit.ts for t in traps]
    for i in order:
        mine = facts[i]
        if mine.hit.honeypot:
            continue
        near = traps[
            bisect_left(trap_times, mine.hit.ts - HONEYPOT_WINDOW) : bisect_right(
                trap_times, mine.hit.ts + HONEYPOT_WINDOW
            )
        ]
        found = [e for e in (_trap_evidence(mine, facts[t]) for t in near) if e is not None]
        if found:
            extra[i].append(max(found, key=lambda e: e.weight))


def _trap_evidence(mine: Facts, trap: Facts) -> Evidence | None:
    gap = abs(mine.hit.ts - trap.hit.ts)
    if gap > HONEYPOT_WINDOW:
        return None
    what = f"{gap:.0f} s from a hit on the hidden link no person can see"
    if _same_source(mine, trap):
        return Evidence(5, what + ", from the same network")
    if mine.hit.ua is not None and mine.hit.ua == trap.hit.ua:
        return Evidence(4, what + ", with the same user agent")
    return None


def _click_bursts(facts: Sequence[Facts], order: list[int], extra: list[list[Evidence]]) -> None:
    for burst in _bursts(facts, [i for i in order if facts[i].hit.kind == "click"]):
        hits = [facts[i].hit for i in burst]
        span = hits[-1].ts - hits[0].ts
        links = {h.link for h in hits if h.link is not None and not h.honeypot}
        found = _sweep(hits, links, span)
        addresses = _addresses_by_family(facts, burst)
        if addresses >= 2:
            found.append(Evidence(2, f"clicks from {addresses} addresses within {span:.0f} s"))
        for i in burst:
            extra[i].extend(found)


def _sweep(hits: list[Hit], links: set[int], span: float) -> list[Evidence]:
    """What following several of a message's links within seconds says: more at delivery
    than later (``LATE_SWEEP``)."""
    total = max((h.links_total or 0 for h in hits), default=0)
    if len(links) >= 3:
        weight, what = 4.0, f"{len(links)} different links followed within {span:.0f} s"
    elif len(links) == 2 and total == 2:
        weight, what = (3.0 if span <= 2 else 2.0), f"both links followed within {span:.0f} s"
    else:
        return []
    since = hits[0].since_send
    if since is not None and since >= LATE_SWEEP:
        return [Evidence(weight / 2, what + ", long after delivery (scanners sweep at delivery)")]
    return [Evidence(weight, what)]


def _bursts(facts: Sequence[Facts], clicks: list[int]) -> list[list[int]]:
    """Clicks joined when they are close in time and share a source or a user agent."""
    parent = {i: i for i in clicks}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for n, i in enumerate(clicks):
        for k in reversed(clicks[:n]):
            if facts[i].hit.ts - facts[k].hit.ts > BURST_GAP:
                break
            if _linked(facts[i], facts[k]):
                parent[root(i)] = root(k)
    groups: dict[int, list[int]] = {}
    for i in clicks:
        groups.setdefault(root(i), []).append(i)
    return [group for group in groups.values() if len(group) >= 2]


def _click_before_open(
    facts: Sequence[Facts], order: list[int], extra: list[list[Evidence]]
) -> None:
    opened = False
    for i in order:
        hit = facts[i].hit
        if hit.kind == "open" and facts[i].score < MACHINE_AT:
            opened = True
        elif hit.kind == "click" and not opened and not hit.honeypot:
            since = hit.since_send
            if since is not None and since < QUICK_CLICK:
                extra[i].append(Evidence(0.5, "clicked before the mail was seen to be opened"))


def _addresses_by_family(facts: Sequence[Facts], burst: list[int]) -> int:
    by_family: dict[bool, set[str]] = {}
    for i in burst:
        ip = facts[i].hit.ip
        if ip:
            by_family.setdefault(":" in ip, set()).add(ip)
    return max((len(v) for v in by_family.values()), default=0)


def _linked(a: Facts, b: Facts) -> bool:
    return _same_source(a, b) or (a.hit.ua is not None and a.hit.ua == b.hit.ua)


def _same_source(a: Facts, b: Facts) -> bool:
    return a.source is not None and a.source == b.source


def _past(facts: Facts) -> str:
    return "opened the mail" if facts.hit.kind == "open" else "followed a link"


def _gap(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
