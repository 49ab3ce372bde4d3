"""Settings, read once at start-up.

Sources, highest priority first: ``INKLING_*`` environment variables, then ``inkling.toml``
(in the working directory, or the file named by ``INKLING_CONFIG``), then defaults. The
composition root (``root.py``) turns them into each package's options; no other module
reads the environment or imports this one.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from inkling.errors import ConfigError

DEFAULT_CONFIG_FILE = "inkling.toml"
RELAY_UPSTREAM_SCHEMES = ("smtp", "smtp+starttls", "smtps")
IMAP_SCHEMES = ("imap", "imap+starttls", "imaps")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.I)


class WorkflowPolicy(BaseModel):
    """How a workflow's messages are tracked (``[workflows.NAME]`` in the TOML).

    ``tracking``: "full" (pixel and links), "clicks" (links only), "none" (sent as written);
    ``disclosure`` adds a footer line linking the customer-facing notice (``/p/{token}``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracking: Literal["full", "clicks", "none"] = "full"
    read_receipt: bool = False
    disclosure: bool = False

    @model_validator(mode="before")
    @classmethod
    def _old_track_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and "track" in data:
            new = "full" if data["track"] is True else "none"
            raise ValueError(
                f'"track" is replaced by "tracking" ("full", "clicks" or "none"): write '
                f'tracking = "{new}"'
            )
        return data

    @model_validator(mode="after")
    def _receipt_needs_tracking(self) -> WorkflowPolicy:
        if self.read_receipt and self.tracking == "none":
            raise ValueError(
                'read_receipt = true needs tracking = "full" or "clicks" (an untracked '
                "message is sent as written)"
            )
        return self


class WorkflowRule(BaseModel):
    """Puts a message in a workflow when every pattern given matches (``[[workflow_rules]]``).

    Patterns are shell-style globs (``*@bigcustomer.example``, ``*refund*``), matched
    without regard to case.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    workflow: str = Field(min_length=1)
    sender: str | None = None
    recipient: str | None = None
    subject: str | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> WorkflowRule:
        if not (self.sender or self.recipient or self.subject):
            raise ValueError(f"the rule for {self.workflow!r} needs sender, recipient or subject")
        return self


class PlaybookSettings(BaseModel):
    """The playbook's thresholds (``[playbook]``); DESIGN.md and docs/playbook.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hold_hours: float = Field(default=4, ge=0, le=1000)
    nudge_after_days: float = Field(default=2, gt=0, le=365)
    escalate_after_days: float = Field(default=1, gt=0, le=365)
    simplify_opens: int = Field(default=3, ge=1, le=100)
    quiet_after_days: float = Field(default=3, gt=0, le=365)


class PlaybookOverrides(BaseModel):
    """A team's own thresholds (``[teams.NAME.playbook]``): those given replace the
    ``[playbook]`` defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hold_hours: float | None = Field(default=None, ge=0, le=1000)
    nudge_after_days: float | None = Field(default=None, gt=0, le=365)
    escalate_after_days: float | None = Field(default=None, gt=0, le=365)
    simplify_opens: int | None = Field(default=None, ge=1, le=100)
    quiet_after_days: float | None = Field(default=None, gt=0, le=365)


class TeamSettings(BaseModel):
    """A team's business-hours clock (``[teams.NAME]``): checked when it is built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    workdays: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    hours: str = "09:00-17:00"
    holidays: str = ""
    playbook: PlaybookOverrides = Field(default_factory=PlaybookOverrides)


class ReportsSettings(BaseModel):
    """What the reports recognise (``[reports]``; docs/metrics.md): ``help_center``, the
    URL prefixes of help articles (a link starting with one is an article)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    help_center: list[str] = Field(default_factory=list)

    @field_validator("help_center")
    @classmethod
    def _prefixes_are_urls(cls, value: list[str]) -> list[str]:
        for prefix in value:
            parts = urlsplit(prefix)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{prefix!r} is not an http:// or https:// URL prefix")
        return value


HelpdeskName = Literal["zendesk", "freshdesk", "helpscout", "freescout", "zammad"]
TicketWord = Literal["low", "normal", "high", "urgent"]
StatusWord = Literal["new", "open", "pending", "hold", "solved", "closed"]


class IntegrationSettings(BaseModel):
    """A helpdesk's webhook (``[integrations.NAME]``; docs/connect-helpdesks.md): the
    secret it signs with (``token`` for Freshdesk, which does not sign) and additions to
    its mapping tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret: SecretStr | None = None
    token: SecretStr | None = None
    teams: dict[str, str] = Field(default_factory=dict)
    statuses: dict[str, StatusWord] = Field(default_factory=dict)
    priorities: dict[str, TicketWord] = Field(default_factory=dict)
    priority_tags: dict[str, TicketWord] = Field(default_factory=dict)


ProviderName = Literal["sendgrid", "mailgun", "postmark", "ses"]


class ProviderSettings(BaseModel):
    """An email service provider's webhook (``[providers.NAME]``; docs/connect-esps.md):
    what its payloads are checked with. SendGrid: ``public_key`` (the verification key of
    its signed Event Webhook); Mailgun: ``signing_key``; Postmark: ``username`` and
    ``password`` (basic authentication); SES: ``topic_arns``, the SNS topics accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    public_key: str | None = None
    signing_key: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    topic_arns: list[str] = Field(default_factory=list)


class Settings(BaseSettings):
    """Every setting Inkling reads. ``inkling.sample.toml`` documents each one."""

    model_config = SettingsConfigDict(env_prefix="INKLING_", extra="forbid")

    data_dir: Path = Field(default=Path("inkling-data"))
    database_url: str | None = None
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    trusted_proxies: list[str] = Field(default_factory=list)
    store_full_ip: bool = False
    # Events older than this are purged (daily in ``inkling serve``, or ``inkling purge``);
    # a message's reading keeps their counts.
    retention_days: int = Field(default=180, ge=1, le=36_500)
    durability: Literal["process", "power"] = "process"
    # "json": one JSON object per log line (time, level, logger, message, exception), for
    # a log collector; "text": lines for a person.
    log_format: Literal["text", "json"] = "text"
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    relay_upstream: str | None = None
    relay_username: str | None = None
    relay_password: SecretStr | None = Field(default=None, validate_default=True)
    relay_allow_plain_auth: bool = False
    relay_tls_cert: Path | None = None
    relay_tls_key: Path | None = Field(default=None, validate_default=True)
    relay_per_recipient: bool = True
    relay_auth_failures_per_connection: int = Field(default=3, ge=1, le=100)
    relay_auth_failures_per_address: int = Field(default=10, ge=1, le=10_000)
    relay_auth_window_seconds: float = Field(default=900.0, ge=1, le=86_400)
    return_domain: str | None = None
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_file: Path | None = Field(default=None, validate_default=True)
    imap_url: str | None = None
    imap_interval: float = Field(default=60.0, ge=5)
    # How long a node holds the lease of work done once (webhooks, due announcements, purge,
    # IMAP): a dead node's work moves to another within this and a third more.
    lease_seconds: float = Field(default=15.0, ge=1, le=600)
    workflows: dict[str, WorkflowPolicy] = Field(default_factory=dict)
    workflow_rules: list[WorkflowRule] = Field(default_factory=list)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    playbook: PlaybookSettings = Field(default_factory=PlaybookSettings)
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    # A regular expression whose first group is a ticket id in a subject; None: the
    # built-in "[#4123]"; "": subjects name no ticket.
    ticket_subject_pattern: str | None = None
    integrations: dict[HelpdeskName, IntegrationSettings] = Field(default_factory=dict)
    providers: dict[ProviderName, ProviderSettings] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("INKLING_CONFIG", DEFAULT_CONFIG_FILE))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL, e.g. https://track.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = value.split(":", 1)[0]
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if scheme == "postgresql" or scheme == "postgres":
            return "postgresql+psycopg" + value[len(scheme) :]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or network") from exc
        return value

    @field_validator("relay_upstream")
    @classmethod
    def _upstream_is_smtp(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError("has a bad port") from exc
        if parts.scheme not in RELAY_UPSTREAM_SCHEMES or not parts.hostname or port is None:
            raise ValueError(
                "must be smtp://host:port, smtp+starttls://host:port or smtps://host:port "
                "(user:password@ before the host if the server wants a login)"
            )
        return value

    @field_validator("imap_url")
    @classmethod
    def _imap_url_is_imap(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError as exc:
            raise ValueError("has a bad port") from exc
        if parts.scheme not in IMAP_SCHEMES or not parts.hostname or parts.password is None:
            raise ValueError(
                "must be imaps://user:password@host:993/INBOX, imap+starttls://... or "
                "imap://... (user and password URL-encoded)"
            )
        return value

    @field_validator("relay_password")
    @classmethod
    def _password_has_a_user(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if bool(value and value.get_secret_value()) != bool(info.data.get("relay_username")):
            raise ValueError("relay_username and relay_password go together")
        return value or None

    @field_validator("relay_tls_key")
    @classmethod
    def _key_has_a_cert(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if (value is None) != (info.data.get("relay_tls_cert") is None):
            raise ValueError("relay_tls_cert and relay_tls_key go together")
        return value

    @field_validator("return_domain", "dkim_domain")
    @classmethod
    def _is_a_domain(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _DOMAIN.fullmatch(value):
            raise ValueError(f"{value!r} is not a domain name, e.g. support.example.com")
        return value.lower()

    @field_validator("dkim_key_file")
    @classmethod
    def _dkim_is_complete(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        given = {
            "dkim_key_file": value,
            "dkim_selector": info.data.get("dkim_selector"),
            "dkim_domain": info.data.get("dkim_domain"),
        }
        missing = [name for name, item in given.items() if not item]
        if 0 < len(missing) < len(given):
            raise ValueError(
                f"DKIM signing needs dkim_key_file, dkim_selector and dkim_domain; "
                f"missing {', '.join(missing)}"
            )
        return value

    @field_validator("ticket_subject_pattern")
    @classmethod
    def _pattern_has_a_group(cls, value: str | None) -> str | None:
        if not value:
            return value
        try:
            groups = re.compile(value).groups
        except re.error as exc:
            raise ValueError(f"is not a regular expression: {exc}") from exc
        if groups < 1:
            raise ValueError("needs a group around the ticket id, e.g. \\[#(\\d+)\\]")
        return value

    @property
    def effective_database_url(self) -> str:
        """The database to use: the configured URL, else a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'inkling.db').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, raising :class:`ConfigError` with one line naming a bad one or
    the file at fault."""
    named = os.environ.get("INKLING_CONFIG")
    toml_file = Path(named or DEFAULT_CONFIG_FILE)
    if named and not toml_file.is_file():
        raise ConfigError(f"INKLING_CONFIG names {toml_file}, which is not a readable file")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, toml_file)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read {toml_file}: {exc}") from exc
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot read settings from {toml_file}: {exc}") from exc


def _describe(exc: ValidationError, toml_file: Path) -> str:
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "settings"
    # a nested setting (a workflow's policy, a rule) is named by its path in the TOML;
    # the variable is the top-level one that holds it
    env_name = f"INKLING_{str(first['loc'][0] if first['loc'] else name).upper()}"
    message = first["msg"].removeprefix("Value error, ")
    return f"bad setting {env_name} ({name} in {toml_file.name}): {message}"
