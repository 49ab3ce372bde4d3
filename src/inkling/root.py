"""The composition root: the one place that reads :class:`Settings` and builds from them.

Every package below takes an options object or plain arguments, never the settings; each
long-lived object is built here once and handed to all who need it (one store, one token
codec, one outgoing stack shared by the SMTP relay and the sending API). Commands build
only what they use: ``inkling reading`` opens the store, not the web stack.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.errors import ConfigError
from inkling.store import Store
from inkling.tokens import TokenCodec

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from pydantic import SecretStr
    from starlette.applications import Starlette

    from inkling.api.access import Access
    from inkling.classify import Classifier
    from inkling.inbound.isolation import IsolatedParser
    from inkling.playbook.teams import TeamBook
    from inkling.providers import Importer, ReceiverOptions
    from inkling.relay import Outbound, RelayOptions
    from inkling.relay.workflows import Workflows
    from inkling.server import Companion, Node
    from inkling.store.optouts import OptOutBook
    from inkling.tickets.helpdesks import HelpdeskOptions
    from inkling.web.settings_view import SettingsView
    from inkling.webhooks.due import DueFeed

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What most commands need: the data dir, the store and the token codec."""

    data_dir: DataDir
    store: Store
    codec: TokenCodec
    base_url: str
    #: The classifier, made once (its ranges take 0.3 s to read) and shared by the loader's
    #: judge and the events import: see :func:`classifier`.
    judge: Classifier | None = field(default=None, repr=False, compare=False)


def open_services(settings: Settings) -> Services:
    """The data dir (made if missing; ConfigError if unusable), the store (not connected
    yet) and the token codec (keys made on first use)."""
    data_dir = DataDir(settings.data_dir)
    data_dir.ensure()
    url = settings.database_url or data_dir.sqlite_url
    return Services(
        data_dir=data_dir,
        store=_store(settings, url),
        codec=TokenCodec.for_key_file(data_dir.keys),
        base_url=settings.base_url,
    )


def _store(settings: Settings, url: str) -> Store:
    pattern = settings.ticket_subject_pattern
    return Store(url) if pattern is None else Store(url, subject_ticket=pattern or None)


def team_book(settings: Settings) -> TeamBook:
    """Every configured team's clock and thresholds (``[playbook]`` under each team's own
    overrides). Raises ConfigError naming the team whose clock is wrong."""
    from inkling.playbook.calendar import BusinessCalendar
    from inkling.playbook.teams import Team, TeamBook, Thresholds

    defaults = settings.playbook.model_dump()
    teams = {}
    for name, given in settings.teams.items():
        try:
            calendar = BusinessCalendar(
                timezone=given.timezone,
                workdays=given.workdays,
                hours=given.hours,
                holidays=given.holidays,
            )
        except ValueError as exc:
            raise ConfigError(f"bad setting teams.{name} in inkling.toml: {exc}") from exc
        own = {k: v for k, v in given.playbook.model_dump().items() if v is not None}
        teams[name] = Team(name, calendar, Thresholds(**(defaults | own)))
    if "default" not in teams:
        teams["default"] = Team("default", thresholds=Thresholds(**defaults))
    return TeamBook(teams)


def local_base_url_warning(settings: Settings) -> str | None:
    """A warning when tracked links would point at this machine only, else None."""
    host = urlsplit(settings.base_url).hostname or ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if not local:
        return None
    return (
        f"tracked links point at {settings.base_url}, which customers cannot reach; "
        "set INKLING_BASE_URL (base_url) to the tracker's public address"
    )


def classifier(services: Services) -> Classifier:
    """The classifier with the ranges an operator installed, else the packaged ones."""
    from inkling.classify import Classifier
    from inkling.classify.ranges import Networks

    if services.judge is None:
        services.judge = Classifier(networks=Networks.load(services.data_dir.ranges))
    return services.judge


def opt_outs(services: Services) -> OptOutBook:
    """The opt-outs, looked up by the digests of the data dir's privacy key."""
    from inkling.privacy.optout import OptOutKey
    from inkling.store.optouts import OptOutBook

    return OptOutBook(
        services.store.optouts, OptOutKey.load_or_create(services.data_dir.privacy_key)
    )


def workflows(settings: Settings, services: Services) -> Workflows:
    """The workflows' policies (``[workflows.NAME]``, under those set on the dashboard,
    read again every few seconds) and rules (``[[workflow_rules]]``)."""
    from inkling.privacy.policy import Policy, Tracking
    from inkling.relay.workflows import Rule, Workflows

    policies = {
        name: Policy(Tracking(p.tracking), read_receipt=p.read_receipt, disclosure=p.disclosure)
        for name, p in settings.workflows.items()
    }
    rules = [
        Rule(workflow=r.workflow, sender=r.sender, recipient=r.recipient, subject=r.subject)
        for r in settings.workflow_rules
    ]
    return Workflows(policies, rules, services.store.policies.overrides)


def outbound(settings: Settings, services: Services, flows: Workflows | None = None) -> Outbound:
    """The outgoing stack (copy maker, DKIM signer, upstream) shared by every way mail
    leaves, routing by ``flows`` (built here when not given). Raises ConfigError for a
    DKIM key or upstream that cannot be used."""
    from inkling.relay import Outbound
    from inkling.relay.copies import CopyMaker
    from inkling.relay.signing import Signer
    from inkling.relay.upstream import Upstream

    signer = None
    if settings.dkim_key_file and settings.dkim_selector and settings.dkim_domain:
        signer = Signer.from_file(
            settings.dkim_domain, settings.dkim_selector, settings.dkim_key_file
        )
    maker = CopyMaker(
        codec=services.codec,
        base_url=settings.base_url,
        workflows=flows or workflows(settings, services),
        signer=signer,
        return_domain=settings.return_domain,
        max_bytes=settings.max_message_bytes,
        opted_out=opt_outs(services).opted_out,
    )
    upstream = Upstream.from_url(settings.relay_upstream) if settings.relay_upstream else None
    if settings.return_domain is None and any(p.read_receipt for p in settings.workflows.values()):
        log.warning("some workflows ask for read receipts, but no return_domain is set")
    return Outbound(
        store=services.store,
        maker=maker,
        upstream=upstream,
        hostname=urlsplit(settings.base_url).hostname or "inkling",
        per_recipient=settings.relay_per_recipient,
    )


def api(
    settings: Settings,
    services: Services,
    shared: Outbound | None = None,
    due: DueFeed | None = None,
    teams: TeamBook | None = None,
    gate: Access | None = None,
) -> FastAPI:
    """The JSON API, sending through ``shared`` (built here when not given); its live
    feed carries the recommendations ``due`` is told of; ``gate`` (shared with the
    dashboard) checks every caller."""
    from inkling.api.app import ApiOptions, build_api
    from inkling.api.integrations import integrations_router
    from inkling.api.optouts import optouts_router
    from inkling.api.stream import stream_router
    from inkling.store.webhooks import Webhooks
    from inkling.tickets.upsert import parse_ticket

    gate = gate or access(settings, services)
    app = build_api(
        store=services.store,
        access=gate,
        outbound=shared or outbound(settings, services),
        options=ApiOptions(
            max_message_bytes=settings.max_message_bytes,
            retention_days=settings.retention_days,
            help_center=tuple(settings.reports.help_center),
        ),
        integrations=integrations_router(
            integration_options(settings),
            lambda data: services.store.tickets.upsert(parse_ticket(data)),
        ),
        teams=teams or team_book(settings),
        stream=lambda auth: stream_router(Webhooks(services.store.database), auth, due=due),
        events=lambda auth: _events_router(settings, services, auth),
    )
    book = opt_outs(services)
    app.include_router(optouts_router(book, services.store.audit, gate.require("privacy:admin")))
    app.include_router(notice(settings, services, book))
    return app


def notice(settings: Settings, services: Services, book: OptOutBook) -> APIRouter:
    """The customer-facing notice and opt-out (``/p/{token}``)."""
    from inkling.notice import NoticeOptions, notice_router

    options = NoticeOptions(
        retention_days=settings.retention_days,
        full_ip=settings.store_full_ip,
        secure_cookie=urlsplit(settings.base_url).scheme == "https",
    )
    return notice_router(services.codec, services.store, book, book.key, options)


def access(settings: Settings, services: Services) -> Access:
    """Who may call what: API keys (those of an older ``users.json`` imported on first
    use) and dashboard sessions, signed with the data dir's session key."""
    from inkling.api.access import Access
    from inkling.api.keys import LegacyImport
    from inkling.api.sessions import Sessions

    accounts = services.store.accounts
    secure = urlsplit(settings.base_url).scheme == "https"
    return Access(
        accounts,
        Sessions.for_key_file(services.data_dir.session_key, secure=secure),
        LegacyImport(services.data_dir.users, accounts),
    )


def dashboard(
    settings: Settings,
    services: Services,
    gate: Access,
    teams: TeamBook | None = None,
    flows: Workflows | None = None,
) -> Starlette:
    """The dashboard at ``/``: sign-in, and the pages behind it (on the teams' clocks,
    shared with the API's queue; the Settings page changes policies through ``flows``,
    the relay's)."""
    from inkling.classify.signatures import UserAgents
    from inkling.tracker import ClientAddress
    from inkling.web.app import build_web
    from inkling.web.login import Logins
    from inkling.web.sources import Sources

    store = services.store
    return build_web(
        access=gate,
        logins=Logins(store.accounts, store.audit),
        # rate limits count by the whole address, kept in memory only
        client=ClientAddress(settings.trusted_proxies, keep_full=True),
        sources=Sources(
            store,
            teams or team_book(settings),
            UserAgents.load(),
            help_center=tuple(settings.reports.help_center),
            settings=settings_view(settings, services, flows),
        ),
    )


def settings_view(
    settings: Settings, services: Services, flows: Workflows | None = None
) -> SettingsView:
    """What the Settings page reads of the settings, as plain values, with the workflows
    the copies are made with (``flows``; built here when not given)."""
    from inkling.playbook.teams import Thresholds
    from inkling.store.webhooks import Webhooks
    from inkling.web.settings_view import SettingsView

    return SettingsView(
        workflows=flows or workflows(settings, services),
        optouts=opt_outs(services),
        webhooks=Webhooks(services.store.database),
        playbook=Thresholds(**settings.playbook.model_dump()),
        configured_teams=tuple(settings.teams),
    )


def importer(settings: Settings, services: Services) -> Importer:
    """The events import (``inkling events import``, the API, the providers' webhooks)."""
    from inkling.providers import Importer

    return Importer(services.store, classifier(services), keep_full_ip=settings.store_full_ip)


def receiver_options(settings: Settings) -> ReceiverOptions:
    """The secrets the providers' webhooks are checked with (``[providers.NAME]``)."""
    from inkling.config import ProviderSettings
    from inkling.providers import ReceiverOptions

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value else None

    given = settings.providers
    sendgrid, mailgun = given.get("sendgrid"), given.get("mailgun")
    postmark, ses = given.get("postmark") or ProviderSettings(), given.get("ses")
    return ReceiverOptions(
        sendgrid_public_key=sendgrid.public_key if sendgrid else None,
        mailgun_signing_key=secret(mailgun.signing_key) if mailgun else None,
        postmark_username=postmark.username,
        postmark_password=secret(postmark.password),
        ses_topic_arns=tuple(ses.topic_arns) if ses else (),
    )


def _events_router(settings: Settings, services: Services, auth: Callable[..., str]) -> APIRouter:
    from inkling.api.providers import events_router
    from inkling.providers import Receivers

    imports = importer(settings, services)
    receivers = Receivers(imports, receiver_options(settings))
    return events_router(importer=imports, receivers=receivers, user=auth)


def integration_options(settings: Settings) -> dict[str, HelpdeskOptions]:
    """Each configured helpdesk's webhook settings (``[integrations.NAME]``)."""
    from inkling.tickets.helpdesks import HelpdeskOptions

    return {
        name: HelpdeskOptions(
            secret=given.secret.get_secret_value() if given.secret else None,
            token=given.token.get_secret_value() if given.token else None,
            teams=given.teams,
            statuses=given.statuses,
            priorities=given.priorities,
            priority_tags=given.priority_tags,
        )
        for name, given in settings.integrations.items()
    }


def node(
    settings: Settings,
    services: Services,
    *,
    relay_port: int | None = None,
    inbound_port: int | None = None,
    announce: Callable[[str], None] = log.warning,
) -> Node:
    """Everything ``inkling serve`` runs: the tracker, its journal and loader, the API,
    and the relay, inbound MX and IMAP poller when asked for."""
    from inkling.classify.batch import BatchJudge
    from inkling.events.journal import Durability, JournalWriter
    from inkling.events.loader import Loader
    from inkling.events.recorder import Recorder
    from inkling.server import Node, Timings
    from inkling.tracker import ClientAddress, Tracker

    judge_with = classifier(services)
    timings = Timings()  # /metrics' histograms, observed by what each times
    journal = JournalWriter(services.data_dir.journal, durability=Durability(settings.durability))
    recorder = Recorder(journal, flush_seconds=timings.journal_flush.observe)
    loader = Loader(
        journal,
        services.store.events,
        BatchJudge(judge_with),
        services.codec,
        retention_seconds=settings.retention_days * 86_400,
        batch_seconds=timings.loader_batch.observe,
    )
    flows = workflows(settings, services)  # the dashboard's policy changes apply here at once
    shared = outbound(settings, services, flows)
    from inkling.webhooks.due import DueFeed

    due = DueFeed()  # the announcer tells it, the live feed reads it
    teams = team_book(settings)  # the API's queue and the announcer share one
    once = _one_node_at_a_time(services, settings.lease_seconds)
    companions: list[Companion] = [
        once("webhooks", _webhooks(services)),
        once("due", _due(services, teams, due)),
        once("purge", purge_daily(services.store, settings.retention_days)),
    ]
    if services.store.notices.shared:  # every node's live feed hears the announcer
        companions.append(_due_listener(services, due))
    if relay_port is not None:
        companions.append(_relay(settings, services, shared, relay_port, announce))
    if inbound_port is not None or settings.imap_url:
        # one worker process for the MX and the poller: see inbound/isolation
        parser = _Parser(timings.inbound_parse.observe)
        if inbound_port is not None:
            companions.append(_inbound(settings, services, inbound_port, parser, announce))
        if settings.imap_url:
            companions.append(once("imap", _imap(settings, services, parser, announce)))
    client = ClientAddress(settings.trusted_proxies, keep_full=settings.store_full_ip)
    gate = access(settings, services)  # the API and the dashboard read the same sessions
    return Node(
        recorder=recorder,
        loader=loader,
        store=services.store,
        api=api(settings, services, shared, due, teams, gate),
        web=dashboard(settings, services, gate, teams, flows),
        companions=companions,
        tracker=lambda fallback: Tracker(
            services.codec, recorder.record, client, _locator(judge_with), fallback=fallback
        ),
        data_dir=services.data_dir.path,
        timings=timings,
    )


def _one_node_at_a_time(
    services: Services, seconds: float
) -> Callable[[str, Companion], Companion]:
    """What makes a companion run on one node at a time: under a lease of its name in the
    database (inkling/leased.py), held by this process ``seconds`` at a time
    (``lease_seconds``)."""
    from inkling.leased import LeasedWork, node_name

    holder = node_name()

    def once(name: str, companion: Companion) -> Companion:
        return LeasedWork(
            services.store.leases, name, companion, holder=holder, seconds=seconds
        ).start

    return once


def _due_listener(services: Services, feed: DueFeed) -> Companion:
    """Every node's live feed hears the due recommendations the announcer (on whichever
    node holds its lease) sends as notices."""
    import json

    from inkling.webhooks.due import DUE_CHANNEL

    def start() -> Callable[[], None]:
        return services.store.notices.listen(DUE_CHANNEL, lambda text: feed.add(json.loads(text)))

    return start


def _webhooks(services: Services) -> Companion:
    """The webhook dispatcher, on threads of its own: a dead endpoint never slows a hit."""
    from inkling.store.webhooks import Webhooks
    from inkling.webhooks import Dispatcher

    def start() -> Callable[[], None]:
        dispatcher = Dispatcher(Webhooks(services.store.database))
        dispatcher.start()
        return dispatcher.stop

    return start


def _due(services: Services, teams: TeamBook, feed: DueFeed) -> Companion:
    """Announces ``recommendation.due`` as the queue's recommendations fall due, to the
    webhooks that want it and to the live feed (webhooks/due.py)."""
    from inkling.store.webhooks import Webhooks
    from inkling.webhooks.due import DUE_CHANNEL, DueAnnouncer, notice_of

    notices = services.store.notices

    def tell(envelope: dict[str, Any]) -> None:
        notices.send(DUE_CHANNEL, notice_of(envelope))

    def start() -> Callable[[], None]:
        announcer = DueAnnouncer(
            services.store,
            Webhooks(services.store.database),
            teams,
            feed=feed,
            tell=tell if notices.shared else None,
        )
        announcer.start()
        return announcer.stop

    return start


def purge_daily(
    store: Store, retention_days: int, *, first: float = 60.0, every: float = 86400.0
) -> Companion:
    """Purges expired events on a thread of its own, ``first`` seconds after start (not
    in the way of a start-up) and every ``every`` seconds from then on, and makes the
    coming months' partitions of events (PostgreSQL) before they are needed. A database
    that is away is tried again at the next turn: it never stops the server."""
    import threading
    import time

    from inkling.errors import StoreError
    from inkling.store.retention import SECONDS_PER_DAY

    def start() -> Callable[[], None]:
        stop = threading.Event()

        def run() -> None:
            wait = first
            while not stop.wait(wait):
                wait = every
                try:
                    store.partitions.ahead(time.time())
                    done = store.retention.purge(
                        time.time() - retention_days * SECONDS_PER_DAY, stopped=stop.is_set
                    )
                except StoreError as exc:
                    log.warning("retention: no purge this time (tried again later): %s", exc)
                    continue
                log.info(
                    "retention: purged %d events older than %d days (%d tallies kept)",
                    done.events,
                    retention_days,
                    done.tallies,
                )

        thread = threading.Thread(target=run, name="inkling-purge", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=10)

        return halt

    return start


def _locator(judge_with: Classifier) -> Callable[[str], str]:
    """The published network of a whole client address ('' for none), cached: the tracker
    asks on every hit, and a team's customers come from few addresses at a time."""
    networks = judge_with.networks

    @lru_cache(maxsize=65536)
    def locate(address: str) -> str:
        return networks.locate(address)[0] or ""

    return locate


def relay_options(settings: Settings, services: Services, *, host: str, port: int) -> RelayOptions:
    """How the relay listens and whom it lets in, from the settings."""
    from inkling.relay import LoginLimits, RelayOptions

    password = settings.relay_password.get_secret_value() if settings.relay_password else None
    return RelayOptions(
        host=host,
        port=port,
        username=settings.relay_username,
        password=password,
        allow_plain_auth=settings.relay_allow_plain_auth,
        tls_cert=settings.relay_tls_cert,
        tls_key=settings.relay_tls_key,
        self_signed_dir=services.data_dir.relay_tls,
        max_message_bytes=settings.max_message_bytes,
        logins=LoginLimits(
            per_connection=settings.relay_auth_failures_per_connection,
            per_address=settings.relay_auth_failures_per_address,
            window=settings.relay_auth_window_seconds,
        ),
    )


def _relay(
    settings: Settings,
    services: Services,
    shared: Outbound,
    port: int,
    announce: Callable[[str], None],
) -> Companion:
    from inkling.relay import start_relay

    if shared.upstream is None:
        raise ConfigError(
            "--relay-port needs INKLING_RELAY_UPSTREAM (relay_upstream in inkling.toml), "
            "the mail server to forward to"
        )
    options = relay_options(settings, services, host=settings.host, port=port)

    def start() -> Callable[[], None]:
        handle = start_relay(shared, options)
        upstream = shared.upstream
        assert upstream is not None
        announce(
            f"SMTP relay on {handle.host}:{handle.port}, forwarding to "
            f"{upstream.host}:{upstream.port}"
        )
        return handle.stop

    return start


class _Parser:
    """The inbound parser's worker process, shared, started by the first companion that
    needs it and closed by the last to stop; ``timed`` is told each parse's seconds."""

    def __init__(self, timed: Callable[[float], None] | None = None) -> None:
        self._users = 0
        self._parser: IsolatedParser | None = None
        self.timed = timed

    def take(self) -> IsolatedParser:
        from inkling.inbound.isolation import IsolatedParser

        if self._parser is None:
            self._parser = IsolatedParser()
        self._users += 1
        return self._parser

    def give_back(self) -> None:
        self._users -= 1
        if self._users == 0 and self._parser is not None:
            self._parser.close()
            self._parser = None


def _inbound(
    settings: Settings,
    services: Services,
    port: int,
    parser: _Parser,
    announce: Callable[[str], None],
) -> Companion:
    from inkling.inbound.recording import InboundRecorder
    from inkling.inbound.server import start_inbound

    domain = settings.return_domain
    if not domain:
        raise ConfigError(
            "--inbound-port needs INKLING_RETURN_DOMAIN (return_domain in inkling.toml), "
            "the domain it receives mail for"
        )

    def start() -> Callable[[], None]:
        recorder = InboundRecorder(
            services.store,
            services.codec,
            domain,
            via="SMTP",
            parse=parser.take().parse,
            parse_seconds=parser.timed,
        )
        handle = start_inbound(
            recorder.deliver,
            host=settings.host,
            port=port,
            return_domain=domain,
            max_bytes=settings.max_message_bytes,
        )
        announce(f"inbound mail for {domain} on {handle.host}:{handle.port}")

        def stop() -> None:
            handle.stop()
            parser.give_back()

        return stop

    return start


def _imap(
    settings: Settings, services: Services, parser: _Parser, announce: Callable[[str], None]
) -> Companion:
    from inkling.inbound.imap import ImapPoller
    from inkling.inbound.recording import InboundRecorder

    url = settings.imap_url or ""

    def start() -> Callable[[], None]:
        recorder = InboundRecorder(
            services.store,
            services.codec,
            settings.return_domain,
            via="IMAP",
            parse=parser.take().parse,
            parse_seconds=parser.timed,
        )
        poller = ImapPoller(
            url,
            recorder.deliver,
            services.data_dir.imap_state,
            interval=settings.imap_interval,
            max_bytes=settings.max_message_bytes,
        )
        poller.start()
        where = urlsplit(url)
        announce(f"watching {where.hostname}{where.path or '/INBOX'} for replies (read-only)")

        def stop() -> None:
            poller.stop()
            parser.give_back()

        return stop

    return start
