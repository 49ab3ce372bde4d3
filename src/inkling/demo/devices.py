"""What fetches the pixel and follows the links of a customer's mail: their mail app, its
proxy, their company's link scanner, their browser; each as it really shows itself.

User agents are real ones (``tests/fixtures/user-agents.toml`` says where each is
documented); browsers are given the version current on the hit's day, as people's
browsers update themselves (the calendars of ``classify/browsers.toml``), while Safe Links
shows the outdated Chromes it is known for. Addresses of proxies and scanners are inside
the ranges their operators publish (Apple's, Google's, Microsoft's) or, for Proofpoint and
Mimecast, which publish none, in their own registered blocks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from inkling.demo.customers import Customer, Setup, pick

DAY = 86_400.0

APPLE_PROXY = ("172.225.6.{}", "172.224.226.{}", "104.28.28.{}", "172.225.46.{}", "172.226.16.{}")
GOOGLE_PROXY = ("66.249.84.{}", "66.249.88.{}", "66.249.93.{}", "66.102.8.{}")
MICROSOFT = ("40.94.3.{}", "40.94.8.{}", "52.100.1.{}", "40.107.22.{}")
PROOFPOINT = ("148.163.130.{}", "148.163.147.{}", "67.231.148.{}")
MIMECAST = ("205.139.110.{}", "207.211.30.{}", "170.10.129.{}")
YAHOO_PROXY = ("98.136.1.{}", "74.6.130.{}")

MPP = "Mozilla/5.0"  # exactly this: Apple Mail Privacy Protection's fetch
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
GMAIL_FETCH = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0"
)
OUTLOOK_WINDOWS = (
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.16327; Pro)",
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; Win64; x64; Trident/7.0; .NET4.0C; "
    ".NET4.0E; Microsoft Outlook 16.0.5404; ms-office; MSOffice 16)",
)
#: Outlook for Mac renders with WebKit: its fetches carry the bare WebKit user agent.
WEBKIT_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
IPHONE_MAIL = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
THUNDERBIRD = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"
)
SAFARI_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Safari/605.1.15"
)
#: Chrome versions Safe Links has been seen with (research/signals.md): years out of date.
SAFE_LINKS = tuple(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/{version} Safari/537.36"
    for version in ("79.0.3945.130", "96.0.4664.110", "101.0.4951.64")
)
#: classify/browsers.toml: Chrome 140 came out on 2025-09-02, one major every 31.3 days;
#: Firefox 140 on 2025-06-24, one every 28.7 days.
CHROME = (140, 1_756_771_200.0, 31.3)
FIREFOX = (140, 1_750_723_200.0, 28.7)
BROWSERS = {
    "windows": {"edge": 0.4, "chrome": 0.5, "firefox": 0.1},
    "mac": {"safari_mac": 0.5, "chrome_mac": 0.4, "firefox": 0.1},
    "linux": {"chrome_linux": 0.5, "firefox_linux": 0.5},
    "ios": {"safari_ios": 0.85, "chrome_ios": 0.15},
    "android": {"chrome_android": 1.0},
}
#: Shares of iPhone Safari users whose clicks come through iCloud Private Relay.
PRIVATE_RELAY = 0.25


@dataclass(frozen=True, slots=True)
class Hit:
    """An open or a click as an ESP's event export records it."""

    kind: str  # "open" or "click"
    ts: float
    ip: str
    ua: str
    link: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


#: A gateway's link check: (links, sent, rng) -> its clicks.
_Scanner = Callable[[int, float, random.Random], list[Hit]]


def at_delivery(customer: Customer, links: int, sent: float, rng: random.Random) -> list[Hit]:
    """What machines do to a copy as it is delivered, read or not: Apple's proxy fetches
    the images, Gmail sometimes fetches at delivery, the company's gateway follows every
    link."""
    hits: list[Hit] = []
    if customer.setup is Setup.APPLE_MPP:
        within = rng.uniform(4, 60) if rng.random() < 0.8 else rng.uniform(60, 3 * 3600)
        hits.append(Hit("open", sent + within, _address(rng, APPLE_PROXY), MPP))
    elif customer.setup is Setup.GMAIL and rng.random() < 0.045:
        hits.append(
            Hit("open", sent + rng.uniform(2, 30), _address(rng, GOOGLE_PROXY), GMAIL_FETCH)
        )
    if customer.gateway and links:
        hits.extend(_SCANNERS[customer.gateway](links, sent, rng))
    return hits


def person_open(customer: Customer, ts: float, rng: random.Random) -> Hit | None:
    """What a person's opening the mail at ``ts`` shows (None: nothing, images blocked)."""
    setup = customer.setup
    if setup is Setup.APPLE_MPP:  # images come from the proxy's cache, now and then again
        return Hit("open", ts, _address(rng, APPLE_PROXY), MPP) if rng.random() < 0.3 else None
    if customer.images_blocked:
        return None
    if setup is Setup.GMAIL:
        return Hit("open", ts, _address(rng, GOOGLE_PROXY), GMAIL_PROXY)
    if setup is Setup.YAHOO:
        return Hit("open", ts, _address(rng, YAHOO_PROXY), YAHOO)
    if setup is Setup.IPHONE_MAIL:
        return Hit("open", ts, _where_phone(customer, rng), IPHONE_MAIL, headers=_lang(customer))
    return Hit("open", ts, customer.desk, _mail_app(customer, ts, rng), headers=_lang(customer))


def person_click(customer: Customer, link: int, ts: float, rng: random.Random) -> Hit:
    """A person following link ``link`` in their browser at ``ts``."""
    browser = pick(rng, BROWSERS[customer.platform])
    if customer.platform in ("ios", "android"):
        relayed = browser == "safari_ios" and rng.random() < PRIVATE_RELAY
        ip = _address(rng, APPLE_PROXY) if relayed else _where_phone(customer, rng)
    else:
        ip = customer.desk
    headers = _lang(customer) | {"sec-fetch-mode": "navigate"}
    return Hit("click", ts, ip, browser_agent(browser, ts, rng), link, headers)


def browser_agent(browser: str, ts: float, rng: random.Random) -> str:
    """A browser's user agent at ``ts``: its current version, or one or two behind."""
    chrome = _version(CHROME, ts) - rng.choice((0, 0, 1, 2))
    firefox = _version(FIREFOX, ts) - rng.choice((0, 0, 1))
    webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
    agents = {
        "edge": f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {webkit} Chrome/{chrome}.0.0.0 "
        f"Safari/537.36 Edg/{chrome}.0.0.0",
        "chrome": f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {webkit} Chrome/{chrome}.0.0.0 "
        "Safari/537.36",
        "chrome_mac": f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {webkit} "
        f"Chrome/{chrome}.0.0.0 Safari/537.36",
        "chrome_linux": f"Mozilla/5.0 (X11; Linux x86_64) {webkit} Chrome/{chrome}.0.0.0 "
        "Safari/537.36",
        "chrome_android": f"Mozilla/5.0 (Linux; Android 10; K) {webkit} Chrome/{chrome}.0.0.0 "
        "Mobile Safari/537.36",
        "chrome_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
        f"(KHTML, like Gecko) CriOS/{chrome}.0.0.0 Mobile/15E148 Safari/604.1",
        "firefox": f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{firefox}.0) Gecko/20100101 "
        f"Firefox/{firefox}.0",
        "firefox_linux": f"Mozilla/5.0 (X11; Linux x86_64; rv:{firefox}.0) Gecko/20100101 "
        f"Firefox/{firefox}.0",
        "safari_mac": SAFARI_MAC,
        "safari_ios": SAFARI_IOS,
    }
    return agents[browser]


def _version(calendar: tuple[int, float, float], ts: float) -> int:
    version, released, days = calendar
    return version + int((ts - released) / (days * DAY))


def _mail_app(customer: Customer, ts: float, rng: random.Random) -> str:
    """The user agent of a mail app that fetches images itself."""
    if customer.setup is Setup.THUNDERBIRD:
        return THUNDERBIRD
    if customer.setup is Setup.OUTLOOK_WEB:  # webmail: the browser fetches
        return browser_agent(pick(rng, BROWSERS[customer.platform]), ts, rng)
    return WEBKIT_MAC if customer.platform == "mac" else rng.choice(OUTLOOK_WINDOWS)


def _safe_links(links: int, sent: float, rng: random.Random) -> list[Hit]:
    """Defender Safe Links: every link checked before delivery, from several of
    Microsoft's addresses, in seconds (now and then a minute later), with an old Chrome."""
    start = sent + (rng.uniform(1.0, 2.2) if rng.random() < 0.9 else rng.uniform(5, 90))
    agent = rng.choice(SAFE_LINKS) if rng.random() < 0.85 else browser_agent("chrome", sent, rng)
    return [
        Hit("click", start + i * rng.uniform(0.15, 0.5), _address(rng, MICROSOFT), agent, i)
        for i in range(links)
    ]


def _sweep(blocks: tuple[str, ...], delay: tuple[float, float]) -> _Scanner:
    """A gateway that follows every link from its own block, with a current Chrome."""

    def scan(links: int, sent: float, rng: random.Random) -> list[Hit]:
        start = sent + rng.uniform(*delay)
        agent = browser_agent("chrome", sent, rng)
        ip = _address(rng, blocks)
        return [Hit("click", start + i * rng.uniform(0.2, 0.6), ip, agent, i) for i in range(links)]

    return scan


def _where_phone(customer: Customer, rng: random.Random) -> str:
    """A phone is on the mobile network or on the home (or office) Wi-Fi."""
    return customer.phone if rng.random() < 0.5 else customer.desk


def _lang(customer: Customer) -> dict[str, str]:
    return {"accept-language": customer.language}


def _address(rng: random.Random, pools: tuple[str, ...]) -> str:
    return rng.choice(pools).format(rng.randrange(2, 250))


_SCANNERS = {
    "safelinks": _safe_links,
    "proofpoint": _sweep(PROOFPOINT, (1.0, 2.2)),
    "mimecast": _sweep(MIMECAST, (1.0, 2.0)),
}
