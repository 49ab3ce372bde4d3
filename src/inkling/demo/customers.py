"""Acme's customers: who writes in, from which company, reading mail on what.

A customer is fixed once met: their address, the mail set-up they read on (``Setup``),
their phone and desk or home addresses, whether their company's gateway scans links, and
whether their mail app blocks images. Shares are those of ``inkling.demo``'s docstring;
the address blocks are real ISPs' and transit providers' allocations that are in none of
the published ranges Inkling ships (so only the evidence, never the block, says "person").
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from inkling.demo.company import Team

_K = TypeVar("_K")


class Setup(StrEnum):
    """How a customer reads mail: what fetches the pixel when they open it."""

    APPLE_MPP = "apple_mpp"  # Apple Mail with Mail Privacy Protection: its proxy fetches all
    GMAIL = "gmail"  # Gmail's image proxy, fetching when the person opens
    OUTLOOK = "outlook"  # Outlook for Windows or Mac at a company
    OUTLOOK_WEB = "outlook_web"  # Outlook.com in a browser
    IPHONE_MAIL = "iphone_mail"  # Mail on an iPhone with Privacy Protection off
    YAHOO = "yahoo"
    THUNDERBIRD = "thunderbird"


#: Setups of people writing from home addresses, and from their company's.
AT_HOME = {
    Setup.APPLE_MPP: 0.40,
    Setup.GMAIL: 0.36,
    Setup.OUTLOOK_WEB: 0.09,
    Setup.YAHOO: 0.06,
    Setup.IPHONE_MAIL: 0.05,
    Setup.THUNDERBIRD: 0.04,
}
AT_WORK = {
    Setup.OUTLOOK: 0.62,
    Setup.APPLE_MPP: 0.22,  # the company's mail in Apple Mail on a phone
    Setup.GMAIL: 0.10,  # Google Workspace
    Setup.IPHONE_MAIL: 0.03,
    Setup.THUNDERBIRD: 0.03,
}
#: The device each setup runs on (what the person's browser is when they click).
PLATFORMS = {
    Setup.APPLE_MPP: {"ios": 0.7, "mac": 0.3},
    Setup.GMAIL: {"android": 0.45, "windows": 0.3, "mac": 0.1, "ios": 0.15},
    Setup.OUTLOOK: {"windows": 0.85, "mac": 0.15},
    Setup.OUTLOOK_WEB: {"windows": 0.8, "mac": 0.2},
    Setup.IPHONE_MAIL: {"ios": 1.0},
    Setup.YAHOO: {"windows": 0.4, "ios": 0.3, "android": 0.3},
    Setup.THUNDERBIRD: {"windows": 0.6, "linux": 0.3, "mac": 0.1},
}
#: Shares of readers whose app blocks remote images until they allow them.
IMAGES_BLOCKED = {Setup.OUTLOOK: 0.5, Setup.THUNDERBIRD: 0.6}
#: The gateways in front of companies' mailboxes (Safe Links comes with Microsoft 365's
#: Defender; Proofpoint and Mimecast are the large secure email gateways).
GATEWAYS = {"safelinks": 0.45, "proofpoint": 0.15, "mimecast": 0.10, None: 0.30}
#: Home mail domains by setup (a person on Apple Mail may have any address).
HOME_DOMAINS = {
    Setup.APPLE_MPP: {"icloud.example": 0.55, "gmail.example": 0.3, "gmx.example": 0.15},
    Setup.GMAIL: {"gmail.example": 1.0},
    Setup.OUTLOOK_WEB: {"outlook.example": 1.0},
    Setup.YAHOO: {"yahoo.example": 1.0},
    Setup.IPHONE_MAIL: {"icloud.example": 1.0},
    Setup.THUNDERBIRD: {"posteo.example": 0.5, "fastmail.example": 0.5},
}


@dataclass(frozen=True, slots=True)
class Region:
    timezones: tuple[str, ...]
    language: str
    first: tuple[str, ...]
    last: tuple[str, ...]
    home: tuple[str, ...]  # residential ISP blocks
    mobile: tuple[str, ...]  # mobile carriers' blocks
    office: tuple[str, ...]  # business transit blocks
    companies: tuple[str, ...]


REGIONS = {
    "eu": Region(
        ("Europe/Berlin", "Europe/Paris", "Europe/London", "Europe/Vienna"),
        "de-DE,de;q=0.9,en;q=0.8",
        ("anna", "jan", "laura", "tobias", "julia", "niklas", "claire", "emma", "oliver"),
        ("mueller", "schmidt", "meyer", "dubois", "martin", "smith", "huber", "klein", "wolf"),
        ("79.192.0.0/10", "84.128.0.0/10", "90.0.0.0/9", "86.128.0.0/10", "2003::/19"),
        ("80.187.0.0/16", "2a01:598::/32"),
        ("38.96.0.0/13", "64.125.0.0/16"),
        ("brandt-logistik", "kaiser-moebel", "lumen-energie", "nordwind-reisen", "alpen-bank",
         "fenwick-legal", "bellevue-hotels", "rheinwerk-media"),
    ),
    "us": Region(
        ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
        "en-US,en;q=0.9",
        ("james", "mary", "michael", "jennifer", "david", "sarah", "kevin", "lisa", "brian"),
        ("johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "lopez", "hall"),
        ("73.0.0.0/8", "2601::/20"),
        ("172.56.0.0/14", "174.192.0.0/10", "2607:fb90::/32"),
        ("38.104.0.0/14", "64.125.0.0/16"),
        ("northwind", "globex", "initech", "hooli", "bigcorp", "stark-freight", "pied-piper",
         "vandelay", "soylent", "wonka-foods", "cyberdyne", "oceanic-air"),
    ),
    "apac": Region(
        ("Asia/Singapore", "Asia/Kuala_Lumpur", "Australia/Sydney", "Asia/Kolkata"),
        "en-SG,en;q=0.9",
        ("wei", "hui min", "arun", "nurul", "kenji", "aisha", "ravi", "mei ling", "jason"),
        ("tan", "lim", "ng", "wong", "kumar", "lee", "ong", "teo", "singh"),
        ("116.86.0.0/15", "118.189.0.0/16", "2409:4000::/22"),
        ("49.36.0.0/14", "2409:4000::/22"),
        ("203.116.0.0/16",),
        ("lion-city-foods", "marina-capital", "harbourfront-health", "straits-shipping",
         "koala-telecom", "saffron-retail"),
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    setup: Setup
    platform: str
    region: str
    timezone: str
    #: The whole address of their desk (their company's office) or their home.
    desk: str
    #: The whole address of their phone on its mobile network.
    phone: str
    gateway: str | None
    images_blocked: bool
    company: str | None

    @property
    def language(self) -> str:
        return REGIONS[self.region].language


@dataclass(slots=True)
class _Company:
    domain: str
    region: str
    weight: float
    gateway: str | None
    office: str  # a /24 of its own
    people: list[Customer] = field(default_factory=list)


class Population:
    """Meets customers as tickets come in, the same people again when they write again."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._companies = [
            _Company(
                f"{name}.example",
                region,
                weight=1 / (rank + 1) ** 0.8,  # a few large customers write most
                gateway=pick(rng, GATEWAYS),
                office=_office(rng, REGIONS[region]),
            )
            for region, about in REGIONS.items()
            for rank, name in enumerate(about.companies)
        ]
        self._taken: set[str] = set()
        self.met: list[Customer] = []

    def newcomer(self, team: Team) -> Customer:
        """Someone writing to ``team``: at a company (most likely one of its region), or at
        home; now and then a colleague of an earlier requester."""
        rng = self._rng
        region = team.region if rng.random() < 0.8 else rng.choice(sorted(REGIONS))
        if rng.random() >= team.corporate:
            return self._meet(self._at_home(region))
        local = [c for c in self._companies if c.region == region]
        company = rng.choices(local, [c.weight for c in local])[0]
        if company.people and rng.random() < 0.15:
            return rng.choice(company.people)
        return self._meet(self._at_work(company))

    def colleague(self, customer: Customer) -> Customer | None:
        """Someone at ``customer``'s company copied in on a reply (None: none yet)."""
        company = next((c for c in self._companies if c.domain == customer.company), None)
        if company is None:
            return None
        others = [p for p in company.people if p.email != customer.email]
        if len(others) < 1 or self._rng.random() < 0.3:
            return self._meet(self._at_work(company))
        return self._rng.choice(others)

    def _meet(self, customer: Customer) -> Customer:
        self.met.append(customer)
        self._taken.add(customer.email)
        company = next((c for c in self._companies if c.domain == customer.company), None)
        if company is not None:
            company.people.append(customer)
        return customer

    def _at_home(self, region: str) -> Customer:
        rng, about = self._rng, REGIONS[region]
        setup = pick(rng, AT_HOME)
        domain = pick(rng, HOME_DOMAINS[setup])
        name = self._address(about, domain, numbered=True)
        return self._customer(name, setup, region, desk=_host(rng, rng.choice(about.home)))

    def _at_work(self, company: _Company) -> Customer:
        rng, about = self._rng, REGIONS[company.region]
        setup = pick(rng, AT_WORK)
        name = self._address(about, company.domain, numbered=False)
        desk = _host(rng, company.office)
        return self._customer(name, setup, company.region, desk, company)

    def _customer(
        self, email: str, setup: Setup, region: str, desk: str, company: _Company | None = None
    ) -> Customer:
        rng, about = self._rng, REGIONS[region]
        return Customer(
            email=email,
            setup=setup,
            platform=pick(rng, PLATFORMS[setup]),
            region=region,
            timezone=rng.choice(about.timezones),
            desk=desk,
            phone=_host(rng, rng.choice(about.mobile)),
            gateway=company.gateway if company else None,
            images_blocked=rng.random() < IMAGES_BLOCKED.get(setup, 0.0),
            company=company.domain if company else None,
        )

    def _address(self, about: Region, domain: str, *, numbered: bool) -> str:
        """A free address: first.last at a company (first.last2 once those are taken),
        numbered at home, as mail providers make people choose (with a longer number once
        the short ones are taken: a larger desk's history meets more people)."""
        rng = self._rng
        for attempt in range(10_000):
            first = rng.choice(about.first).replace(" ", "")
            local = f"{first}.{rng.choice(about.last)}"
            if numbered:
                number = rng.randrange(10, 99) if attempt < 20 else rng.randrange(100, 10_000)
                local = f"{local}{number}"
            elif attempt >= 20:
                local = f"{local}{attempt // 20 + 1}"
            address = f"{local}@{domain}"
            if address not in self._taken:
                return address
        raise AssertionError(f"no free address at {domain}")


def pick(rng: random.Random, shares: dict[_K, float]) -> _K:
    """One key of ``shares``, as likely as its share."""
    keys = list(shares)
    return rng.choices(keys, [shares[k] for k in keys])[0]


def _office(rng: random.Random, region: Region) -> str:
    """A company's own /24 (or /48) inside one of the region's business blocks."""
    block = ipaddress.ip_network(rng.choice(region.office))
    size = 256 if block.version == 4 else 2**80
    first = block.network_address + rng.randrange(block.num_addresses // size) * size
    return f"{first}/{24 if block.version == 4 else 48}"


def _host(rng: random.Random, block: str) -> str:
    """An address inside ``block`` (not its first or last)."""
    network = ipaddress.ip_network(block)
    return str(network.network_address + rng.randrange(1, min(network.num_addresses - 1, 2**64)))
