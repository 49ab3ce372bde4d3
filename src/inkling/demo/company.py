"""Acme, the demo's company: three support teams on three clocks, twenty agents, the links
they put in their replies (each with how well it works) and what customers write in about.

Everything here is data; ``month.py`` draws from it. Shares and probabilities are
assumptions of a plausible B2B software company's support, chosen so that each page of the
dashboard has something true to show (docstring of ``inkling.demo`` for the whole mix).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The domain of the demo's Message-IDs: what tells the demo's mail from anyone else's.
DOMAIN = "demo.inkling.example"
COMPANY = "acme.example"
#: The help articles' prefix: ``[reports] help_center`` in the demo's inkling.toml.
HELP_CENTER = "https://help.acme.example/articles/"
#: Files the help centre hosts (downloads, not articles).
FILES = "https://help.acme.example/files/"
#: The support lead, who signs in to the dashboard with the password the demo prints.
LEAD = f"sam@{COMPANY}"
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    timezone: str
    hours: str
    holidays: str
    #: The team's share of the tickets.
    share: float
    #: Where most of its customers live (``customers.REGIONS``).
    region: str
    #: Share of its tickets from people at a company (the rest write from home addresses).
    corporate: float
    agents: tuple[str, ...]

    @property
    def agent_emails(self) -> tuple[str, ...]:
        return tuple(f"{name}@{COMPANY}" for name in self.agents)

    def settings(self) -> dict[str, object]:
        """The team as ``[teams.NAME]`` of inkling.toml has it, every key given."""
        return {
            "timezone": self.timezone,
            "workdays": list(WORKDAYS),
            "hours": self.hours,
            "holidays": self.holidays,
        }


TEAMS = (
    Team(
        "billing",
        "Europe/Berlin",
        "09:00-17:00",
        "DE-BE",
        share=0.35,
        region="eu",
        corporate=0.30,
        agents=(
            "lena.fischer",
            "jonas.weber",
            "mia.schneider",
            "lukas.wagner",
            "sophie.becker",
            "felix.hoffmann",
            "hannah.schulz",
        ),
    ),
    Team(
        "technical",
        "America/New_York",
        "09:00-18:00",
        "US-NY",
        share=0.40,
        region="us",
        corporate=0.65,
        agents=(
            "ryan.rivera",
            "olivia.chen",
            "marcus.johnson",
            "priya.patel",
            "daniel.kim",
            "grace.thompson",
            "ethan.brooks",
            "ava.martinez",
        ),
    ),
    Team(
        "onboarding",
        "Asia/Singapore",
        "09:00-18:00",
        "SG",
        share=0.25,
        region="apac",
        corporate=0.50,
        agents=("weiling.tan", "arjun.nair", "siti.rahman", "junhao.lim", "mei.chen"),
    ),
)
TEAM_NAMES = tuple(team.name for team in TEAMS)


def team(name: str) -> Team:
    return next(t for t in TEAMS if t.name == name)


@dataclass(frozen=True, slots=True)
class Link:
    """A link agents put in replies: a help article, a file, or a page of the product.

    ``appeal``: how likely a person who reads the reply follows it. ``solves``: how likely
    the customer, having followed it, needs nothing more (no reply, no new ticket).
    """

    url: str
    title: str
    appeal: float
    solves: float


def _article(slug: str, title: str, appeal: float, solves: float) -> Link:
    return Link(HELP_CENTER + slug, title, appeal, solves)


def _file(name: str, title: str, appeal: float, solves: float) -> Link:
    return Link(FILES + name, title, appeal, solves)


#: The links, by a short key. Two are deliberately poor, so the Content page has something
#: to flag: the getting-started guide, pasted into every onboarding reply, is opened with
#: the mail but hardly ever clicked ("opened, not clicked"); the SAML article is clicked
#: often, and the customer writes back anyway ("did not help": too technical).
LINKS: dict[str, Link] = {
    "refunds": _article("refunds-explained", "Refunds explained", 0.55, 0.90),
    "invoice": _article("understanding-your-invoice", "Understanding your invoice", 0.45, 0.88),
    "vat": _article("add-your-vat-id", "Add your VAT ID", 0.60, 0.92),
    "plans": _article("change-your-plan", "Change your plan", 0.50, 0.88),
    "payment": _article("update-payment-method", "Update your payment method", 0.55, 0.92),
    "cancel": _article("cancel-or-pause", "Cancel or pause a subscription", 0.45, 0.88),
    "prices": _file("price-list.pdf", "Price list (PDF)", 0.40, 0.90),
    "saml": _article("configure-saml-sso", "Configure SAML single sign-on", 0.60, 0.12),
    "scim": _article("provision-users-with-scim", "Provision users with SCIM", 0.45, 0.92),
    "limits": _article("api-rate-limits", "API rate limits", 0.60, 0.90),
    "webhooks": _article("webhook-troubleshooting", "Webhook troubleshooting", 0.50, 0.92),
    "network": _article("network-requirements", "Network and VPN requirements", 0.45, 0.90),
    "exports": _article("large-exports", "Exporting large data sets", 0.50, 0.88),
    "twofactor": _article("two-factor-authentication", "Two-factor authentication", 0.55, 0.90),
    "salesforce": _article("salesforce-integration", "The Salesforce integration", 0.50, 0.92),
    "logs": _file("log-collector.zip", "Log collector (ZIP)", 0.35, 0.92),
    "status": Link("https://status.acme.example/", "Status page", 0.30, 0.88),
    "guide": _article(
        "the-complete-getting-started-guide", "The complete getting-started guide", 0.02, 0.92
    ),
    "import": _article("import-your-contacts", "Import your contacts", 0.60, 0.90),
    "template": _file("contacts-template.csv", "Contacts template (CSV)", 0.45, 0.90),
    "invite": _article("invite-your-team", "Invite your team", 0.55, 0.92),
    "workflow": _article("your-first-workflow", "Your first workflow", 0.50, 0.88),
    "compare": _article("compare-plans", "Compare plans", 0.45, 0.88),
    "dpa": _file("acme-dpa.pdf", "Data processing agreement (PDF)", 0.40, 0.90),
    "migrate": _article("migration-checklist", "Migration checklist", 0.50, 0.92),
    "account": Link(f"https://app.{COMPANY}/settings/account", "Account settings", 0.25, 0.85),
}
#: Pasted at the foot of onboarding replies this often, whatever the question.
GUIDE_FOOTER = 0.65


@dataclass(frozen=True, slots=True)
class Topic:
    """What a customer writes in about, and what it takes to answer."""

    team: str
    subject: str
    weight: float
    #: Keys of ``LINKS`` that answer it.
    links: tuple[str, ...]
    #: Agent replies it takes on average (a ticket gets 1 + a geometric number more).
    turns: float
    #: Shares of low, normal, high and urgent.
    priority: tuple[float, float, float, float] = (0.15, 0.65, 0.15, 0.05)
    #: How likely the customer reads the first reply when they do not answer it (later
    #: ones, once they are in the conversation, 0.9).
    reads: float = 0.9
    #: The first reply's subject when it is not "Re: <the ticket's subject>" (a notice
    #: the customer did not ask for).
    outbound: str | None = None


URGENT = (0.0, 0.4, 0.4, 0.2)  # locked out, charged twice: rarely low
ROUTINE = (0.35, 0.65, 0.0, 0.0)  # a copy, an invitation

TOPICS = (
    Topic("billing", "Charged twice this month", 3, ("refunds", "invoice"), 3.2, URGENT),
    Topic("billing", "Refund for my annual plan", 2, ("refunds", "cancel"), 3.4),
    Topic("billing", "Need a copy of my invoice", 3, ("invoice", "account"), 2.0, ROUTINE),
    Topic("billing", "VAT ID missing on invoice", 2, ("vat", "invoice"), 2.6),
    Topic("billing", "Switch from monthly to annual", 2, ("plans", "prices"), 2.9),
    Topic("billing", "Cancel my subscription", 1.5, ("cancel", "plans"), 3.1),
    Topic(
        "billing",
        "Payment failed",
        1.5,
        ("payment", "account"),
        1.1,
        reads=0.03,
        outbound="Action required: your payment did not go through",
    ),
    Topic("technical", "SSO login fails with a SAML error", 3, ("saml", "status"), 5.0, URGENT),
    Topic("technical", "Users not provisioned from Okta", 1.5, ("scim", "saml"), 4.6, URGENT),
    Topic("technical", "API returns 429 Too Many Requests", 2.5, ("limits", "status"), 3.4),
    Topic("technical", "Webhooks stopped arriving", 2.5, ("webhooks", "logs", "status"), 4.3),
    Topic("technical", "Cannot connect through our VPN", 2, ("network", "logs"), 4.8),
    Topic("technical", "CSV export times out", 1.5, ("exports",), 3.1),
    Topic("technical", "Two-factor codes not accepted", 2, ("twofactor", "account"), 2.6, URGENT),
    Topic("technical", "Salesforce sync is broken", 1.5, ("salesforce", "logs"), 4.5),
    Topic("onboarding", "How do I import my contacts?", 3, ("import", "template"), 2.9),
    Topic("onboarding", "Inviting my team", 2.5, ("invite",), 2.2, ROUTINE),
    Topic("onboarding", "Setting up our first workflow", 2.5, ("workflow",), 3.7),
    Topic("onboarding", "Which plan is right for us?", 1.5, ("compare", "prices"), 2.5),
    Topic("onboarding", "GDPR and data retention", 1, ("dpa",), 2.8),
    Topic("onboarding", "Migrating from another tool", 1.5, ("migrate", "import"), 4.2),
)


def topics_of(team_name: str) -> tuple[Topic, ...]:
    return tuple(topic for topic in TOPICS if topic.team == team_name)
