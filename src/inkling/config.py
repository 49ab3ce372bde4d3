"""Settings, read once at start-up.

Sources, highest priority first: ``INKLING_*`` environment variables, then ``inkling.toml``
(in the working directory, or the file named by ``INKLING_CONFIG``), then defaults. The
composition root (``cli.py``) loads them and passes the pieces down; no other module reads
the environment.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from inkling.errors import ConfigError

DEFAULT_CONFIG_FILE = "inkling.toml"


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
    batch_max: int = Field(default=512, ge=1, le=100_000)
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)

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

    @property
    def effective_database_url(self) -> str:
        """The database to use: the configured URL, else a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'inkling.db').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, raising :class:`ConfigError` with one line naming a bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc
    except (ValueError, OSError) as exc:  # e.g. a malformed inkling.toml
        raise ConfigError(f"cannot read settings: {exc}") from exc


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "settings"
    env_name = f"INKLING_{name.upper()}"
    message = first["msg"].removeprefix("Value error, ")
    return f"bad setting {env_name} ({name} in inkling.toml): {message}"
