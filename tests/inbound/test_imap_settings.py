"""The receiving settings (``imap_url``, ``imap_interval``) and how the poller reads its URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkling.config import load_settings
from inkling.errors import ConfigError
from inkling.inbound.imapsession import ImapUrl


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("INKLING_IMAP_URL", "INKLING_IMAP_INTERVAL", "INKLING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_the_imap_settings_load_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INKLING_IMAP_URL", "imaps://support%40acme.example:pw@imap.acme.example/")
    monkeypatch.setenv("INKLING_IMAP_INTERVAL", "30")
    settings = load_settings()
    assert settings.imap_url == "imaps://support%40acme.example:pw@imap.acme.example/"
    assert settings.imap_interval == 30.0
    assert load_settings(imap_url="").imap_url is None


@pytest.mark.parametrize(
    "url",
    [
        "pop3://u:p@mail.example",
        "imap:///INBOX",
        "imaps://mail.example/INBOX",  # no login
        "imaps://u:p@mail.example:99999/INBOX",
    ],
)
def test_a_bad_imap_url_is_one_line(url: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(imap_url=url)
    message = str(error.value)
    assert message.startswith("bad setting INKLING_IMAP_URL (imap_url in inkling.toml): ")
    assert "\n" not in message


def test_the_interval_is_at_least_five_seconds() -> None:
    with pytest.raises(ConfigError, match="INKLING_IMAP_INTERVAL"):
        load_settings(imap_interval=1)


def test_the_url_is_read_with_defaults_and_logged_without_its_password() -> None:
    url = ImapUrl.parse("imaps://support%40acme.example:p%40ss%3Aword@imap.acme.example")
    assert (url.user, url.password) == ("support@acme.example", "p@ss:word")
    assert (url.host, url.port, url.mailbox) == ("imap.acme.example", 993, "INBOX")
    assert ImapUrl.parse("imap+starttls://u:p@h/Support%20Replies").port == 143
    assert ImapUrl.parse("imap+starttls://u:p@h/Support%20Replies").mailbox == "Support Replies"
    assert "p@ss" not in str(url) and "p@ss" not in repr(url)
    with pytest.raises(ValueError, match="ASCII"):
        ImapUrl.parse("imap://u:p@h/R%C3%A9ponses")
