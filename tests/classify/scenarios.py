"""A realistic, labelled mix of the hits that support mail gets, for judging the classifier.

The set is built from what the real world is documented to do (../shared/research/signals.md
and the sources named in ``MIX``), never from the classifier's rules, so that it measures
the classifier honestly. Every number that shapes the mix is in ``MIX`` with where it comes
from; a number marked *assumption* has no public measurement behind it and can be argued.

``generate(messages, seed)`` is deterministic: the same arguments give the same hits.
"""

from __future__ import annotations

import bisect
import ipaddress
import math
import random
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
UA_FILE = ROOT / "tests" / "fixtures" / "user-agents.toml"
RANGES_DIR = ROOT / "src" / "inkling" / "classify" / "data" / "ranges"

# 2026-06-01T00:00:00Z: the month the set pretends to cover.
EPOCH = 1_780_272_000.0
DAY = 86_400.0


@dataclass(frozen=True)
class Figure:
    """One number of the mix and where it comes from."""

    value: float
    source: str


LITMUS = "Litmus Email Client Market Share 2022-2023"
ASSUMED = "assumption"

# The mix. Recipient setups are shares of recipients; behaviours are probabilities per
# message (or per burst) unless said otherwise.
MIX: dict[str, Figure] = {
    # --- how the recipient reads mail (shares of recipients, sum to 1) ---
    "client.apple_mpp": Figure(
        0.40,
        f"{LITMUS}: Apple Mail ~55-58% of opens; Litmus Jul 2022: 52.7% of opens MPP-affected; "
        "lowered for support's many business recipients so that MPP is ~40-50% of opens",
    ),
    "client.apple_mail": Figure(
        0.03,
        "Apple Mail with MPP off: Litmus 2022 puts MPP-affected opens (52.7%) at ~90% of Apple "
        "Mail's share, so ~1 in 10 Apple Mail readers",
    ),
    "client.gmail": Figure(0.27, f"{LITMUS}: Gmail ~27-29% of opens"),
    "client.outlook_desktop": Figure(
        0.21, f"{LITMUS}: Outlook 4-9% of all opens; {ASSUMED}: far higher among B2B customers"
    ),
    "client.webmail_browser": Figure(
        0.04, f"{ASSUMED}: OWA on-premises, Roundcube and other webmail loading images directly"
    ),
    "client.yahoo": Figure(0.03, f"{LITMUS}: Yahoo Mail ~2-3% of opens"),
    "client.thunderbird": Figure(0.01, f"{LITMUS}: under 1%"),
    "client.windows_mail": Figure(0.01, f"{LITMUS}: Windows Mail ~0.5-1%"),
    # --- who guards the recipient's inbox (shares within the recipient's client) ---
    "gateway.business.safelinks": Figure(
        0.45,
        f"{ASSUMED}: Outlook desktop readers are mostly Microsoft 365 tenants; Safe Links comes "
        "with Defender for Office 365 (Business Premium, E5)",
    ),
    "gateway.business.proofpoint": Figure(0.12, f"{ASSUMED}: largest secure email gateway"),
    "gateway.business.mimecast": Figure(0.08, ASSUMED),
    "gateway.business.barracuda": Figure(0.05, ASSUMED),
    "gateway.business.scanner": Figure(0.03, f"{ASSUMED}: Cisco and other gateways"),
    "gateway.other.safelinks": Figure(0.06, f"{ASSUMED}: Apple Mail on a Microsoft 365 account"),
    "gateway.other.seg": Figure(
        0.07, f"{ASSUMED}: Proofpoint/Mimecast/Barracuda/other in front of Google Workspace etc."
    ),
    # --- the person ---
    "person.reads": Figure(0.85, f"{ASSUMED}: the customer is waiting on this reply"),
    "person.first_open.waiting": Figure(
        0.35,
        "signals.md: a waiting customer opens within seconds to minutes; share is an assumption",
    ),
    "person.first_open.same_day": Figure(0.40, ASSUMED),
    "person.clicks": Figure(0.35, f"{ASSUMED}: support replies carry the link the person needs"),
    "person.second_click": Figure(0.30, ASSUMED),
    "person.click_delay_median_s": Figure(20.0, f"{ASSUMED}: clicks often follow in seconds"),
    "person.outlook_images_blocked": Figure(
        0.50, "signals.md / gophish #1920: Outlook blocks images until the reader allows them"
    ),
    "person.thunderbird_images_blocked": Figure(
        0.60, "Thunderbird blocks remote content by default"
    ),
    "person.private_relay": Figure(
        0.25,
        f"{ASSUMED}: Safari users with iCloud+ Private Relay on; signals.md: real Safari users "
        "come through Private Relay",
    ),
    "person.ipv6": Figure(0.40, "Google IPv6 statistics: ~40-45% of users reach Google over IPv6"),
    # --- mailbox providers' machines ---
    "mpp.first_fetch_within_minute": Figure(
        0.80, "Movable Ink (45B impressions, 2021): 80% of MPP opens under a minute old"
    ),
    "mpp.ipv6": Figure(0.40, f"{ASSUMED}: Private Relay egress is dual-stack"),
    "gmail.delivery_fetch": Figure(
        0.045, "GMass: 2.5%, later 6.5%, of Gmail opens were delivery-time false opens"
    ),
    # --- scanners ---
    "safelinks.within_3s": Figure(
        0.90, "Microsoft 365 docs ('scanned prior to delivery'); gophish #973/#2646: 1-3 s"
    ),
    "safelinks.modern_ua": Figure(0.15, "brief: Safe Links sometimes sends current Chrome UAs"),
    "scanner.honeypot": Figure(
        0.85, f"{ASSUMED}: a scanner that follows every link mostly follows the hidden one too"
    ),
    "barracuda.honeypot": Figure(0.25, f"{ASSUMED}: Barracuda checks only the first link"),
    "scanner.fetches_pixel": Figure(
        0.15, f"{ASSUMED}: some sandboxes render the HTML (not documented for Safe Links)"
    ),
    "scanner.head": Figure(0.10, f"{ASSUMED}: some scanners check with HEAD first"),
    # --- other machines ---
    "preview.after_click": Figure(
        0.08, f"{ASSUMED}: the customer pastes the link into Slack/Teams/a chat"
    ),
    "script.per_message": Figure(0.01, f"{ASSUMED}: customers' automation, link checkers"),
    "script.head": Figure(0.25, "Mautic IpLookupHelper drops HEAD: link checkers use it"),
    "prefetch.before_click": Figure(
        0.03, "Mautic drops `Purpose: prefetch`/`Sec-Purpose: prefetch`; browsers send them"
    ),
    # --- hard cases (share of messages) ---
    "hard": Figure(0.05, "brief: ~5% of messages deliberately hard"),
}

LINKS_TOTAL = {1: 0.25, 2: 0.25, 3: 0.20, 4: 0.15, 5: 0.10, 6: 0.05}  # ASSUMED: support mail
HARD_KINDS = {"fast_human": 0.4, "modern_ua_scanner": 0.3, "same_minute": 0.3}
PLATFORMS = {
    "outlook_desktop": {"windows": 0.85, "mac": 0.15},
    "apple_mpp": {"ios": 0.7, "mac": 0.3},
    "apple_mail": {"ios": 0.6, "mac": 0.4},
    "gmail": {"android": 0.45, "windows": 0.25, "mac": 0.15, "ios": 0.15},
    "yahoo": {"windows": 0.4, "ios": 0.3, "android": 0.3},
    "webmail_browser": {"windows": 0.7, "mac": 0.2, "linux": 0.1},
    "thunderbird": {"windows": 0.6, "linux": 0.3, "mac": 0.1},
    "windows_mail": {"windows": 1.0},
}
BROWSERS = {
    "windows": {"chrome_desktop": 0.55, "edge_desktop": 0.35, "firefox_desktop": 0.10},
    "mac": {"safari_macos": 0.5, "chrome_desktop": 0.4, "firefox_desktop": 0.1},
    "linux": {"chrome_desktop": 0.5, "firefox_desktop": 0.5},
    "ios": {"safari_ios": 0.85, "chrome_mobile": 0.15},
    "android": {"chrome_mobile": 1.0},
}
PLATFORM_MARK = {
    "windows": "Windows NT 10.0",
    "mac": "Macintosh",
    "linux": "X11",
    "ios": "like Mac OS X",
    "android": "Android",
}
PREVIEWERS = {  # ASSUMED shares of where a support link gets pasted
    "slack": 0.40,
    "teams": 0.25,
    "whatsapp": 0.10,
    "telegram": 0.05,
    "facebook": 0.05,
    "linkedin": 0.05,
    "discord": 0.05,
    "twitter": 0.05,
}

# Address blocks that are in none of the published range files (checked by the tests).
# Residential and mobile ISPs (RIR allocations): Comcast, Deutsche Telekom, Orange France,
# BT, T-Mobile US, Verizon Wireless, Reliance Jio; corporate transit: Cogent, Zayo.
RESIDENTIAL_V4 = ("73.0.0.0/8", "79.192.0.0/10", "84.128.0.0/10", "90.0.0.0/9", "86.128.0.0/10")
RESIDENTIAL_V6 = ("2601::/20", "2003::/19", "2a01:cb00::/24", "2a00:23c0::/27")
MOBILE_V4 = ("172.56.0.0/14", "174.192.0.0/10", "49.36.0.0/14")
MOBILE_V6 = ("2607:fb90::/32", "2600:1000::/28", "2409:4000::/22")
CORPORATE_V4 = ("38.0.0.0/8", "64.125.0.0/16")
CORPORATE_V6 = ("2001:550::/32",)
# Vendors' own data-centre blocks (RIR records), not in the published files.
PROOFPOINT = ("148.163.128.0/19", "67.231.144.0/20", "205.220.160.0/19")
MIMECAST = (
    "205.139.110.0/24",
    "207.211.30.0/24",
    "170.10.128.0/22",
    "216.205.24.0/24",
    "195.130.217.0/24",
    "91.220.42.0/24",
    "146.101.78.0/24",
)
BARRACUDA = ("209.222.80.0/21", "64.235.144.0/20")  # rDNS *.ess.barracudanetworks.com
HOSTING = (  # Hetzner, OVH, DigitalOcean, Linode (Akamai)
    "88.198.0.0/16",
    "5.9.0.0/16",
    "51.68.0.0/16",
    "145.239.0.0/16",
    "159.203.0.0/16",
    "167.99.0.0/16",
    "45.33.0.0/17",
)
YAHOO = ("74.6.0.0/16", "98.136.0.0/14")
META = ("31.13.64.0/18", "66.220.144.0/20", "69.171.224.0/19", "173.252.64.0/18")
TWITTER = ("199.16.156.0/22", "199.59.148.0/22")
TELEGRAM = ("149.154.160.0/20", "91.108.4.0/22")
LINKEDIN = ("108.174.0.0/20",)
# Blocks inside the published files, as documented in signals.md.
# Gmail's proxy: mostly 66.249.8x.x (signals.md), also other Google blocks; repeats weight.
GOOGLE_PROXY = ("66.249.80.0/20",) * 3 + ("66.102.0.0/20", "74.125.0.0/16")
SAFELINKS = ("40.107.0.0/16", "40.107.0.0/16", "40.94.0.0/16", "52.100.0.0/14")
GOOGLE_CLOUD = ("35.184.0.0/13", "34.64.0.0/10")  # Discord runs on Google Cloud

HUMAN = "human"
MACHINE = "machine"


@dataclass(frozen=True)
class LabelledHit:
    """A classifier input hit and the truth about it.

    ``story`` names what produced the hit (e.g. ``safelinks``, ``person:click``,
    ``hard:fast_human/person:open``) so that a confusion can be traced to its scenario.
    """

    hit: dict[str, Any]
    verdict: str
    agent: str
    story: str


@dataclass
class Recipient:
    """The person a message goes to and everything that sits between them and Inkling."""

    client: str
    platform: str
    gateway: str
    home_ip: str
    browser_ua: str
    open_ua: str | None
    click_ip: str
    lang: str


@dataclass
class Message:
    """One support reply being played out: collects the hits that reach the tracker."""

    rng: random.Random
    message_id: str
    sent_at: float
    links_total: int
    recipient: Recipient
    hard: str | None = None
    hits: list[LabelledHit] = field(default_factory=list)

    def add(
        self,
        story: str,
        truth: tuple[str, str],
        kind: str,
        delay: float,
        ip: str,
        ua: str | None,
        *,
        link: int | None = None,
        honeypot: bool = False,
        method: str = "GET",
        headers: dict[str, str] | None = None,
    ) -> float:
        """Record a hit ``delay`` seconds after send; returns its timestamp."""
        ts = round(self.sent_at + delay, 3)
        hit = {
            "message": self.message_id,
            "kind": kind,
            "ts": ts,
            "sent_at": self.sent_at,
            "ip": ip,
            "ua": ua,
            "method": method,
            "headers": headers if headers is not None else _headers(ua, kind, self.recipient),
            "link": link,
            "links_total": self.links_total,
            "honeypot": honeypot,
        }
        label = f"hard:{self.hard}/{story}" if self.hard else story
        self.hits.append(LabelledHit(hit, truth[0], truth[1], label))
        return ts


# --------------------------------------------------------------------------- data


@cache
def user_agents() -> dict[str, tuple[str, ...]]:
    """The UA groups of tests/fixtures/user-agents.toml; link previews as ``preview.NAME``."""
    data = tomllib.loads(UA_FILE.read_text(encoding="utf-8"))
    groups: dict[str, tuple[str, ...]] = {}
    for name, group in data.items():
        if name == "link_preview":
            for sub, inner in group.items():
                groups[f"preview.{sub}"] = tuple(inner["uas"])
        else:
            groups[name] = tuple(group["uas"])
    return groups


class PublishedRanges:
    """The published IP ranges (package data), for drawing and checking addresses."""

    def __init__(self, directory: Path = RANGES_DIR) -> None:
        self.networks: dict[str, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {}
        spans: list[tuple[int, int, int, str]] = []
        for path in sorted(directory.glob("*.txt")):
            nets = [
                ipaddress.ip_network(line.strip(), strict=False)
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")
            ]
            self.networks[path.stem] = nets
            name = path.stem.rsplit("-", 1)[0]
            spans += [(n.version, int(n[0]), int(n[-1]), name) for n in nets]
        spans.sort()
        self._spans = spans
        self._starts = [(v, s) for v, s, _, _ in spans]

    def name_of(self, ip: str) -> str | None:
        """The file family (``microsoft``, ``apple-proxy``...) whose range holds ``ip``."""
        addr = ipaddress.ip_address(ip)
        key = (addr.version, int(addr))
        i = bisect.bisect_right(self._starts, key)
        # Ranges can nest; look back over the few spans that start before the address.
        for version, start, end, name in reversed(self._spans[max(0, i - 64) : i]):
            if version == addr.version and start <= int(addr) <= end:
                return name
        return None


@cache
def published() -> PublishedRanges:
    return PublishedRanges()


# --------------------------------------------------------------------------- drawing


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _chance(rng: random.Random, name: str) -> bool:
    return rng.random() < MIX[name].value


def _address(rng: random.Random, cidrs: Sequence[str]) -> str:
    """A random host address inside one of ``cidrs`` (IPv6: random interface id)."""
    net = ipaddress.ip_network(rng.choice(cidrs))
    size = net.num_addresses
    offset = rng.randrange(1, size - 1) if size > 2 else 0
    return str(net[offset])


def _file_address(rng: random.Random, file: str) -> str:
    nets = published().networks[file]
    return _address(rng, [str(rng.choice(nets))])


def _outside(rng: random.Random, cidrs: Sequence[str]) -> str:
    """An address from ``cidrs`` that is in no published range (redrawn if it is)."""
    while True:
        ip = _address(rng, cidrs)
        if published().name_of(ip) is None:
            return ip


def _ua(rng: random.Random, group: str, platform: str | None = None) -> str:
    uas = user_agents()[group]
    if platform:
        uas = tuple(u for u in uas if PLATFORM_MARK[platform] in u) or uas
    return rng.choice(uas)


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _lognormal(rng: random.Random, median: float, sigma: float, low: float, high: float) -> float:
    return min(high, max(low, rng.lognormvariate(math.log(median), sigma)))


def _headers(ua: str | None, kind: str, recipient: Recipient) -> dict[str, str]:
    """What the sending software sends with a request: depends on the software, never on
    who is behind it, so headers carry no label the classifier could cheat with (a
    scanner's browser gets the recipient's language too)."""
    if ua is None or not ua.startswith("Mozilla/5.0 ("):
        return {"accept": "*/*"}
    if kind == "open":
        return {"accept": "image/avif,image/webp,image/png,image/*;q=0.8,*/*;q=0.5"}
    headers = {
        "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "accept-language": recipient.lang,
        "upgrade-insecure-requests": "1",
    }
    if "Chrome/" in ua:
        headers |= {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate"}
    return headers


# --------------------------------------------------------------------------- recipients


def _client(rng: random.Random) -> str:
    shares = {k.split(".", 1)[1]: f.value for k, f in MIX.items() if k.startswith("client.")}
    return _pick(rng, shares)


def _gateway(rng: random.Random, client: str) -> str:
    if client == "outlook_desktop":
        shares = {
            k.rsplit(".", 1)[1]: f.value
            for k, f in MIX.items()
            if k.startswith("gateway.business.")
        }
        shares["none"] = 1.0 - sum(shares.values())
        return _pick(rng, shares)
    if client in ("apple_mpp", "apple_mail") and _chance(rng, "gateway.other.safelinks"):
        return "safelinks"
    if client != "yahoo" and _chance(rng, "gateway.other.seg"):
        return _pick(rng, {"proofpoint": 0.4, "mimecast": 0.3, "barracuda": 0.2, "scanner": 0.1})
    return "none"


def _network(rng: random.Random, platform: str, business: bool) -> str:
    """The address a person's own requests come from: office, home or mobile network."""
    v6 = _chance(rng, "person.ipv6")
    if business and platform in ("windows", "mac", "linux"):
        return _outside(rng, CORPORATE_V6 if v6 else CORPORATE_V4)
    if platform in ("ios", "android") and rng.random() < 0.5:
        return _outside(rng, MOBILE_V6 if v6 else MOBILE_V4)
    return _outside(rng, RESIDENTIAL_V6 if v6 else RESIDENTIAL_V4)


def _open_ua(rng: random.Random, client: str, platform: str, browser_ua: str) -> str | None:
    """The UA of the person's own pixel fetches (None: their opens are not visible as theirs)."""
    match client:
        case "outlook_desktop":
            return _ua(rng, "outlook_windows" if platform == "windows" else "outlook_mac")
        case "apple_mail":
            return _ua(rng, "apple_mail_ios" if platform == "ios" else "apple_mail_macos")
        case "thunderbird":
            return _ua(rng, "thunderbird", platform)
        case "windows_mail":
            return _ua(rng, "windows_mail")
        case "gmail":
            return _ua(rng, "gmail_image_proxy")
        case "yahoo":
            return _ua(rng, "yahoo_proxy")
        case "webmail_browser":
            return browser_ua
    return None


def recipient(
    rng: random.Random, client: str | None = None, gateway: str | None = None
) -> Recipient:
    """Draw a recipient's mail setup from the shares in ``MIX``."""
    client = client or _client(rng)
    gateway = gateway or _gateway(rng, client)
    platform = _pick(rng, PLATFORMS[client])
    browser_ua = _ua(rng, _pick(rng, BROWSERS[platform]), platform)
    business = gateway != "none" or client in ("outlook_desktop", "webmail_browser")
    home_ip = _network(rng, platform, business)
    click_ip = home_ip
    if (
        "Safari/" in browser_ua
        and "Version/" in browser_ua
        and _chance(rng, "person.private_relay")
    ):
        click_ip = _file_address(rng, rng.choice(["apple-proxy-ipv4", "apple-proxy-ipv6"]))
    lang = rng.choice(
        ["en-US,en;q=0.9", "en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9"]
    )
    return Recipient(
        client,
        platform,
        gateway,
        home_ip,
        browser_ua,
        _open_ua(rng, client, platform, browser_ua),
        click_ip,
        lang,
    )


# --------------------------------------------------------------------------- the person


def _first_open_delay(rng: random.Random) -> float:
    """Seconds from send to the person's first look at the message."""
    roll = rng.random()
    if roll < MIX["person.first_open.waiting"].value:
        return _lognormal(rng, 90.0, 1.0, 10.0, 1200.0)
    if roll < MIX["person.first_open.waiting"].value + MIX["person.first_open.same_day"].value:
        return _log_uniform(rng, 600.0, 8 * 3600.0)
    return rng.uniform(8 * 3600.0, 72 * 3600.0)


def _reading_times(rng: random.Random, first: float) -> list[float]:
    """When the person looks at the message: the first time, then 0-3 repeat looks."""
    times = [first]
    for _ in range(rng.choices([0, 1, 2, 3], weights=[0.45, 0.30, 0.15, 0.10])[0]):
        gap = rng.uniform(5.0, 120.0) if rng.random() < 0.3 else _log_uniform(rng, 600, 2 * DAY)
        times.append(times[-1] + gap)
    return times


def _opens_visible(m: Message) -> bool:
    """Whether the person's own opens reach Inkling as theirs (MPP hides them; blocked
    images send nothing)."""
    client = m.recipient.client
    if client == "apple_mpp":
        return False
    if client == "outlook_desktop":
        return not _chance(m.rng, "person.outlook_images_blocked")
    if client == "thunderbird":
        return not _chance(m.rng, "person.thunderbird_images_blocked")
    return True


def _person_open(m: Message, delay: float) -> None:
    r = m.recipient
    match r.client:
        case "gmail":
            ip = _address(m.rng, GOOGLE_PROXY)
            m.add("person:open", (HUMAN, "gmail_proxy"), "open", delay, ip, r.open_ua)
        case "yahoo":
            ip = _outside(m.rng, YAHOO)
            m.add("person:open", (HUMAN, "yahoo_proxy"), "open", delay, ip, r.open_ua)
        case "webmail_browser":
            m.add("person:open", (HUMAN, "browser"), "open", delay, r.home_ip, r.open_ua)
        case _:
            m.add("person:open", (HUMAN, "mail_client"), "open", delay, r.home_ip, r.open_ua)


def _person_click(m: Message, delay: float, link: int) -> float:
    story = "person:click:private_relay" if m.recipient.click_ip != m.recipient.home_ip else ""
    r = m.recipient
    return m.add(
        story or "person:click",
        (HUMAN, "browser"),
        "click",
        delay,
        r.click_ip,
        r.browser_ua,
        link=link,
    )


def _click_link(m: Message) -> int:
    """Which visible link a person follows: the first (the answer) most often."""
    weights = [2.0 if i == 0 else 1.0 for i in range(m.links_total)]
    return m.rng.choices(range(m.links_total), weights=weights)[0]


def person(
    m: Message, first: float | None = None, click_after: float | None = None
) -> list[tuple[float, int]]:
    """The person reads (maybe several times) and maybe clicks; returns (timestamp, link)
    of each click. ``first`` and ``click_after`` force the timing for the hard cases."""
    rng = m.rng
    if first is None and not _chance(rng, "person.reads"):
        return []
    times = _reading_times(rng, first if first is not None else _first_open_delay(rng))
    if _opens_visible(m):
        for t in times:
            _person_open(m, t)
    if click_after is None and not _chance(rng, "person.clicks"):
        return []
    median = MIX["person.click_delay_median_s"].value
    after = click_after or _lognormal(rng, median, 1.2, 2.0, 3600.0)
    at = times[0] if click_after is not None else rng.choice(times[:2])
    link = _click_link(m)
    clicks = [(_person_click(m, at + after, link), link)]
    if m.links_total > 1 and _chance(rng, "person.second_click"):
        link = _click_link(m)
        later = at + after + _lognormal(rng, 30.0, 1.0, 3.0, 1800.0)
        clicks.append((_person_click(m, later, link), link))
    return clicks


# --------------------------------------------------------------------------- mailbox machines


def apple_mpp(m: Message) -> None:
    """MPP fetches at delivery (when the device is online), again later; always machine."""
    rng = m.rng
    if _chance(rng, "mpp.first_fetch_within_minute"):
        delays = [rng.uniform(2.0, 60.0)]
    else:
        delays = [_log_uniform(rng, 60.0, 14 * 3600.0)]
    for _ in range(rng.choices([0, 1, 2], weights=[0.55, 0.30, 0.15])[0]):
        delays.append(delays[-1] + _log_uniform(rng, 300.0, 2 * DAY))
    for delay in delays:
        file = "apple-proxy-ipv6" if _chance(rng, "mpp.ipv6") else "apple-proxy-ipv4"
        ip = _file_address(rng, file)
        m.add("apple_mpp", (MACHINE, "apple_mpp"), "open", delay, ip, "Mozilla/5.0")


def gmail_delivery_fetch(m: Message) -> None:
    """Gmail's own fetch seconds after delivery: a false open from Google."""
    headers = {"accept": "*/*"}
    if m.rng.random() < 0.5:
        headers["referer"] = "http://mail.google.com/"
    ip = _address(m.rng, GOOGLE_PROXY)
    ua = _ua(m.rng, "gmail_delivery_fetch")
    delay = m.rng.uniform(1.0, 15.0)
    m.add("gmail_prefetch", (MACHINE, "gmail_prefetch"), "open", delay, ip, ua, headers=headers)


# --------------------------------------------------------------------------- scanners


def _scanner_uas(rng: random.Random, vendor: str, modern: bool) -> tuple[str, ...]:
    """The UAs one scanner burst uses (scanners' own UAs are mostly unverified)."""
    if vendor == "barracuda":
        return user_agents()["barracuda"]
    if modern:
        return tuple(u for u in user_agents()["chrome_desktop"] if "Windows" in u)
    if vendor == "safelinks":
        return user_agents()["safelinks_outdated"]
    style = _pick(rng, {"outdated": 0.45, "modern": 0.35, "none": 0.10, "script": 0.10})
    if style == "modern":
        return user_agents()["chrome_desktop"] + user_agents()["edge_desktop"]
    if style == "script":
        return (rng.choice(user_agents()["scripts"]),)
    if style == "none":
        return ("",)
    return user_agents()["safelinks_outdated"][:5]


def _scanner_ip(rng: random.Random, vendor: str, blocks: list[str]) -> str:
    """An address of the scanner: varies within the burst, inside one or two blocks."""
    match vendor:
        case "safelinks":
            return _address(rng, blocks)
        case "proofpoint" | "mimecast" | "barracuda":
            return _outside(rng, blocks)
    return _address(rng, blocks) if rng.random() < 0.5 else _outside(rng, HOSTING)


def _scanner_blocks(rng: random.Random, vendor: str) -> list[str]:
    match vendor:
        case "safelinks":
            if rng.random() < 0.7:
                return [rng.choice(SAFELINKS)]
            return [str(rng.choice(published().networks["microsoft-ipv4"]))]
        case "proofpoint":
            return [rng.choice(PROOFPOINT)]
        case "mimecast":
            return rng.sample(MIMECAST, 2)
        case "barracuda":
            return list(BARRACUDA)
    return [str(rng.choice(published().networks["amazon-ipv4"]))]


def _scanner_start(rng: random.Random, vendor: str) -> float:
    if vendor == "safelinks":
        return 1.0 if _chance(rng, "safelinks.within_3s") else rng.uniform(3.0, 15.0)
    return rng.uniform(1.0, 25.0)


def scanner(m: Message, vendor: str, modern: bool = False) -> None:
    """A gateway follows the links at delivery: all of them (Barracuda: the first one),
    usually the hidden honeypot too, from addresses that change within the burst."""
    rng = m.rng
    truth = (MACHINE, "scanner" if vendor == "scanner" else f"scanner:{vendor}")
    modern = modern or (vendor == "safelinks" and _chance(rng, "safelinks.modern_ua"))
    uas = _scanner_uas(rng, vendor, modern)
    main_ua = rng.choice(uas)
    blocks = _scanner_blocks(rng, vendor)
    start = _scanner_start(rng, vendor)
    span = 2.0 if vendor == "safelinks" else 6.0
    links: list[int | None] = [0] if vendor == "barracuda" else list(range(m.links_total))
    honeypot = "barracuda.honeypot" if vendor == "barracuda" else "scanner.honeypot"
    if _chance(rng, honeypot):
        links.append(None)
    if vendor != "barracuda" and rng.random() < 0.1:
        links.append(rng.randrange(m.links_total))  # a link followed twice
    head = vendor != "safelinks" and _chance(rng, "scanner.head")
    for link in links:
        ua = main_ua if rng.random() < 0.8 else rng.choice(uas)
        ip = _scanner_ip(rng, vendor, blocks)
        delay = start + rng.uniform(0.0, span)
        method = "HEAD" if head else "GET"
        m.add(
            vendor,
            truth,
            "click",
            delay,
            ip,
            ua or None,
            link=link,
            honeypot=link is None,
            method=method,
        )
    if vendor not in ("safelinks", "barracuda") and _chance(rng, "scanner.fetches_pixel"):
        ip = _scanner_ip(rng, vendor, blocks)
        m.add(vendor, truth, "open", start + rng.uniform(0.0, span), ip, main_ua or None)


# --------------------------------------------------------------------------- other machines


def _preview_ip(m: Message, service: str) -> str:
    rng = m.rng
    match service:
        case "slack":
            return _file_address(rng, "amazon-ipv4")
        case "teams":
            return _file_address(rng, "microsoft-ipv4")
        case "facebook":
            return _outside(rng, META)
        case "twitter":
            return _outside(rng, TWITTER)
        case "telegram":
            return _outside(rng, TELEGRAM)
        case "linkedin":
            return _outside(rng, LINKEDIN)
        case "discord":
            return _address(rng, GOOGLE_CLOUD)
    return m.recipient.home_ip  # WhatsApp: the sender's own phone builds the preview


def link_preview(m: Message, click_ts: float, link: int) -> None:
    """The customer pastes the link into a chat; the chat fetches it for a preview."""
    service = _pick(m.rng, PREVIEWERS)
    group = f"preview.{service}"
    fetches = 2 if service == "slack" else 1  # Slack fetches with both of its UAs
    delay = click_ts - m.sent_at + _log_uniform(m.rng, 5.0, 1800.0)
    for i in range(fetches):
        ua = user_agents()[group][i % len(user_agents()[group])]
        ip = _preview_ip(m, service)
        m.add(
            "link_preview",
            (MACHINE, "link_preview"),
            "click",
            delay + i * m.rng.uniform(0.1, 2),
            ip,
            ua,
            link=link,
        )


def script(m: Message) -> None:
    """A program fetches links of the message (customer's automation, a link checker)."""
    rng = m.rng
    ua = None if rng.random() < 0.1 else rng.choice(user_agents()["scripts"])
    method = "HEAD" if _chance(rng, "script.head") else "GET"
    where = _pick(rng, {"amazon": 0.4, "hosting": 0.45, "home": 0.15})
    delay = _log_uniform(rng, 30.0, 3 * DAY)
    for link in rng.sample(range(m.links_total), rng.randint(1, m.links_total)):
        if where == "amazon":
            ip = _file_address(rng, "amazon-ipv4")
        else:
            ip = _outside(rng, HOSTING) if where == "hosting" else m.recipient.home_ip
        m.add("script", (MACHINE, "script"), "click", delay, ip, ua, link=link, method=method)
        delay += rng.uniform(0.05, 2.0)


def prefetch(m: Message, click_ts: float, link: int) -> None:
    """The person's browser prefetches a link shortly before the real click."""
    r = m.recipient
    headers = _headers(r.browser_ua, "click", r)
    if "Chrome/" in r.browser_ua:
        headers["sec-purpose"] = "prefetch"
    else:
        headers["purpose"] = "prefetch"
    delay = max(0.5, click_ts - m.sent_at - m.rng.uniform(0.3, 5.0))
    m.add(
        "prefetch",
        (MACHINE, "prefetch"),
        "click",
        delay,
        r.click_ip,
        r.browser_ua,
        link=link,
        headers=headers,
    )


# --------------------------------------------------------------------------- messages


def _hard_case(rng: random.Random, m: Message) -> None:
    """Play one of the deliberately hard messages."""
    r = m.recipient
    if m.hard == "fast_human":
        if r.gateway != "none":
            scanner(m, r.gateway)
        person(m, first=rng.uniform(3.0, 6.0), click_after=rng.uniform(1.5, 4.0))
    elif m.hard == "modern_ua_scanner":
        scanner(m, r.gateway, modern=True)
        person(m)
    else:  # same_minute: a scanner burst and the person within the same minute
        scanner(m, r.gateway)
        person(m, first=rng.uniform(8.0, 40.0), click_after=rng.uniform(2.0, 15.0))
    if r.client == "apple_mpp":
        apple_mpp(m)


def _ordinary(rng: random.Random, m: Message) -> None:
    """Play an ordinary message: whatever the recipient's setup makes happen."""
    r = m.recipient
    if r.gateway != "none":
        scanner(m, r.gateway)
    if r.client == "apple_mpp":
        apple_mpp(m)
    if r.client == "gmail" and _chance(rng, "gmail.delivery_fetch"):
        gmail_delivery_fetch(m)
    clicks = person(m)
    if clicks and _chance(rng, "preview.after_click"):
        link_preview(m, *clicks[0])
    if clicks and _chance(rng, "prefetch.before_click"):
        prefetch(m, *clicks[0])
    if _chance(rng, "script.per_message"):
        script(m)


def _hard_recipient(rng: random.Random, hard: str) -> Recipient:
    if hard == "fast_human":
        client = _pick(
            rng, {"outlook_desktop": 0.4, "gmail": 0.3, "apple_mpp": 0.2, "apple_mail": 0.1}
        )
        return recipient(rng, client)
    if hard == "modern_ua_scanner":
        gateways = {"safelinks": 0.5, "proofpoint": 0.2, "mimecast": 0.2, "scanner": 0.1}
    else:
        gateways = {"safelinks": 0.4, "proofpoint": 0.25, "mimecast": 0.2, "barracuda": 0.15}
    client = _pick(rng, {"outlook_desktop": 0.6, "apple_mpp": 0.2, "gmail": 0.2})
    return recipient(rng, client, _pick(rng, gateways))


def _sent_at(rng: random.Random) -> float:
    """Mostly business hours over four weeks."""
    day = rng.randrange(28)
    office = rng.random() < 0.8
    second = rng.uniform(8 * 3600.0, 18 * 3600.0) if office else rng.uniform(0.0, DAY)
    return round(EPOCH + day * DAY + second, 3)


def message(rng: random.Random, index: int, seed: int) -> Message:
    """One support reply and everything that happens to it."""
    hard = _pick(rng, HARD_KINDS) if _chance(rng, "hard") else None
    who = _hard_recipient(rng, hard) if hard else recipient(rng)
    links = rng.choices(list(LINKS_TOTAL), weights=list(LINKS_TOTAL.values()))[0]
    m = Message(rng, f"s{seed}-m{index:05d}", _sent_at(rng), links, who, hard)
    if hard:
        _hard_case(rng, m)
    else:
        _ordinary(rng, m)
    return m


def generate(messages: int, seed: int) -> list[LabelledHit]:
    """A labelled set of hits for ``messages`` support replies, in arrival order."""
    rng = random.Random(seed)
    hits = [h for i in range(messages) for h in message(rng, i, seed).hits]
    hits.sort(key=lambda h: h.hit["ts"])
    return hits
