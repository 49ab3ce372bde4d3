"""An email service's own machine flag, kept by an import, is evidence like any other."""

from __future__ import annotations

from typing import Any

from inkling.classify import classify_hits

SENT = 1_790_000_000
HOME = "82.132.215.9"


def _open(flag: str | None, ua: str = "Mozilla/5.0", after: float = 7200) -> dict[str, Any]:
    headers = {"x-provider-bot": flag} if flag else {}
    return {"message": "m", "kind": "open", "ts": SENT + after, "sent_at": SENT, "ip": HOME,
            "ua": ua, "method": "GET", "headers": headers}  # fmt: skip


def test_sendgrids_and_mailguns_apple_flag_make_a_machine_open() -> None:
    for flag in ("sendgrid: true", "mailgun: apple"):
        (judged,) = classify_hits([_open(flag)])
        assert (judged["verdict"], judged["agent"]) == ("machine", "apple_mpp"), flag
        assert any("flagged it" in reason for reason in judged["reasons"])


def test_mailguns_gmail_flag_is_not_taken_for_a_machine() -> None:
    gmail = (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    )
    (flagged,) = classify_hits([_open("mailgun: gmail", ua=gmail) | {"ip": "66.249.84.3"}])
    (plain,) = classify_hits([_open(None, ua=gmail) | {"ip": "66.249.84.3"}])
    assert flagged["verdict"] == plain["verdict"] == "human"


def test_an_unknown_flag_word_adds_nothing() -> None:
    outlook = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
    (judged,) = classify_hits([_open("someone: maybe", ua=outlook)])
    assert judged["verdict"] == "human"
