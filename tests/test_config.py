"""Settings: defaults, environment, inkling.toml, and one clear line for a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkling.config import Settings, load_settings
from inkling.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("INKLING_DATA_DIR", "INKLING_DATABASE_URL", "INKLING_BASE_URL", "INKLING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == Path("inkling-data")
    assert settings.base_url == "http://127.0.0.1:8080"
    assert (
        settings.effective_database_url == f"sqlite:///{tmp_path / 'inkling-data' / 'inkling.db'}"
    )
    assert not settings.store_full_ip


def test_environment_overrides_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "inkling.toml").write_text(
        'base_url = "https://track.acme.example/"\ndata_dir = "/var/lib/inkling"\n'
    )
    monkeypatch.setenv("INKLING_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = load_settings()
    assert settings.base_url == "https://track.acme.example"
    assert settings.data_dir == tmp_path / "elsewhere"


def test_postgres_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INKLING_DATABASE_URL", "postgresql://inkling@db/inkling")
    assert load_settings().database_url == "postgresql+psycopg://inkling@db/inkling"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("INKLING_BASE_URL", "track.acme.example", "INKLING_BASE_URL"),
        ("INKLING_BASE_URL", "ftp://track.acme.example", "INKLING_BASE_URL"),
        ("INKLING_DATABASE_URL", "mysql://x@y/z", "INKLING_DATABASE_URL"),
        ("INKLING_PORT", "eighty", "INKLING_PORT"),
        ("INKLING_TRUSTED_PROXIES", '["10.0.0.0/33"]', "INKLING_TRUSTED_PROXIES"),
    ],
)
def test_bad_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert named in message and "\n" not in message


def test_unknown_key_in_toml_is_named(tmp_path: Path) -> None:
    (tmp_path / "inkling.toml").write_text('base_ulr = "https://x.example"\n')
    with pytest.raises(ConfigError, match="base_ulr"):
        load_settings()


def test_malformed_toml_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "inkling.toml").write_text("base_url = \n")
    with pytest.raises(ConfigError, match=r"cannot read inkling\.toml: .*line 1"):
        load_settings()


def test_sample_config_loads_and_documents_every_setting(tmp_path: Path) -> None:
    sample = Path(__file__).parents[1] / "inkling.sample.toml"
    (tmp_path / "inkling.toml").write_text(sample.read_text())
    load_settings()
    text = sample.read_text()
    for name in Settings.model_fields:
        assert f"\n{name} =" in text or f"\n# {name} =" in text, f"{name} is not in the sample"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("INKLING_RELAY_UPSTREAM", "http://mail.acme.example:25", "INKLING_RELAY_UPSTREAM"),
        ("INKLING_RELAY_UPSTREAM", "smtp://mail.acme.example", "INKLING_RELAY_UPSTREAM"),
        ("INKLING_RETURN_DOMAIN", "bounces@acme", "INKLING_RETURN_DOMAIN"),
        ("INKLING_DKIM_SELECTOR", "inkling", "INKLING_DKIM_KEY_FILE"),
        ("INKLING_RELAY_USERNAME", "helpdesk", "INKLING_RELAY_PASSWORD"),
        ("INKLING_RELAY_TLS_CERT", "/etc/relay.crt", "INKLING_RELAY_TLS_KEY"),
    ],
)
def test_bad_relay_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_workflows_and_rules_from_toml(tmp_path: Path) -> None:
    (tmp_path / "inkling.toml").write_text(
        'relay_upstream = "smtp+starttls://u:p@smtp.acme.example:587"\n'
        "[workflows.billing]\nread_receipt = true\n"
        '[[workflow_rules]]\nworkflow = "billing"\nsubject = "*invoice*"\n'
    )
    settings = load_settings()
    billing = settings.workflows["billing"]
    assert billing.tracking == "full" and billing.read_receipt and not billing.disclosure
    assert settings.workflow_rules[0].subject == "*invoice*"


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[workflows.legal]\ntracking = "none"\nread_receipt = true\n', "workflows.legal"),
        ('[workflows.legal]\ntracking = "some"\n', "workflows.legal.tracking"),
        ('[[workflow_rules]]\nworkflow = "legal"\n', "workflow_rules.0"),
        ("[workflows.legal]\ntrak = false\n", "workflows.legal.trak"),
    ],
)
def test_bad_workflow_is_named_by_its_path(tmp_path: Path, toml: str, named: str) -> None:
    (tmp_path / "inkling.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"({named} in inkling.toml)" in message and "\n" not in message


def test_the_old_track_key_is_refused_naming_the_new_one(tmp_path: Path) -> None:
    (tmp_path / "inkling.toml").write_text("[workflows.legal]\ntrack = false\n")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "workflows.legal" in message and 'tracking = "none"' in message
    assert "\n" not in message.strip()
