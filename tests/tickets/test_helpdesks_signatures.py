"""Webhook signatures: a payload passes only with the helpdesk's valid signature (or, for
Freshdesk and as FreeScout's fallback, the shared token); anything else is one line saying
what was missing or wrong. The expected signatures are computed here as each helpdesk's
docs describe them, not by the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from inkling.errors import SignatureError
from inkling.tickets.helpdesk_signatures import missing_credential, verify
from inkling.tickets.helpdesks import HelpdeskOptions

BODY = b'{"ticket": {"id": "4123"}}'
SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
SIGNED_AT = "2026-12-04T09:05:00Z"
NOW = 1796375100.0  # SIGNED_AT


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _zendesk(body: bytes = BODY, stamp: str = SIGNED_AT, secret: str = SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": _b64(mac),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def _helpscout(body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha1).digest()
    return {"X-HelpScout-Signature": _b64(mac)}


def _zammad(body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}


SIGNED = HelpdeskOptions(secret=SECRET)


def test_zendesk_signature_over_timestamp_and_body() -> None:
    verify("zendesk", SIGNED, _zendesk(), BODY, now=NOW)
    verify("zendesk", SIGNED, {k.lower(): v for k, v in _zendesk().items()}, BODY, now=NOW)


def test_zendesk_altered_body_or_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match the body"):
        verify("zendesk", SIGNED, _zendesk(), BODY.replace(b"4123", b"4124"), now=NOW)
    moved = _zendesk() | {"X-Zendesk-Webhook-Signature-Timestamp": "2026-12-04T09:05:01Z"}
    with pytest.raises(SignatureError, match="does not match"):
        verify("zendesk", SIGNED, moved, BODY, now=NOW)


def test_zendesk_replayed_an_hour_later_is_refused() -> None:
    with pytest.raises(SignatureError, match="60 minutes off the clock"):
        verify("zendesk", SIGNED, _zendesk(), BODY, now=NOW + 3600)
    verify("zendesk", SIGNED, _zendesk(), BODY, now=NOW + 600)  # a retry a while later


def test_zendesk_missing_headers() -> None:
    with pytest.raises(SignatureError, match=r"^zendesk: no X-Zendesk-Webhook-Signature header$"):
        verify("zendesk", SIGNED, {}, BODY, now=NOW)
    only = {"X-Zendesk-Webhook-Signature": _zendesk()["X-Zendesk-Webhook-Signature"]}
    with pytest.raises(SignatureError, match="no X-Zendesk-Webhook-Signature-Timestamp"):
        verify("zendesk", SIGNED, only, BODY, now=NOW)


def test_helpscout_sha1_base64() -> None:
    verify("helpscout", SIGNED, _helpscout(), BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify("helpscout", SIGNED, _helpscout(secret="another"), BODY)
    with pytest.raises(SignatureError, match="is not base64"):
        verify("helpscout", SIGNED, {"X-HelpScout-Signature": "not base64!"}, BODY)


def test_zammad_hub_signature_hex() -> None:
    verify("zammad", SIGNED, _zammad(), BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify("zammad", SIGNED, _zammad(body=b"{}"), BODY)
    bare = {"X-Hub-Signature": _zammad()["X-Hub-Signature"].removeprefix("sha1=")}
    with pytest.raises(SignatureError, match="does not start with 'sha1='"):
        verify("zammad", SIGNED, bare, BODY)


def test_freescout_signs_like_helpscout_or_sends_the_token() -> None:
    mac = _b64(hmac.new(SECRET.encode(), BODY, hashlib.sha1).digest())
    verify("freescout", SIGNED, {"X-FreeScout-Signature": mac}, BODY)
    by_token = HelpdeskOptions(token="s3cret-token")
    verify("freescout", by_token, {}, BODY, query={"token": "s3cret-token"})
    verify("freescout", by_token, {"X-Inkling-Token": "s3cret-token"}, BODY)
    with pytest.raises(SignatureError, match="the shared token does not match"):
        verify("freescout", by_token, {}, BODY, query={"token": "guess"})


def test_freshdesk_token_in_a_header_or_basic_auth() -> None:
    options = HelpdeskOptions(token="s3cret-token")
    verify("freshdesk", options, {"X-Inkling-Token": "s3cret-token"}, BODY)
    basic = "Basic " + base64.b64encode(b"freshdesk:s3cret-token").decode()
    verify("freshdesk", options, {"Authorization": basic}, BODY)
    wrong = "Basic " + base64.b64encode(b"freshdesk:guess").decode()
    with pytest.raises(SignatureError, match=r"^freshdesk: the shared token does not match$"):
        verify("freshdesk", options, {"Authorization": wrong}, BODY)
    with pytest.raises(SignatureError, match="no shared token"):
        verify("freshdesk", options, {}, BODY, query={"token": "s3cret-token"})  # not in URLs


def test_a_secret_where_the_helpdesk_does_not_sign_is_no_credential() -> None:
    """Freshdesk cannot sign, so a `secret` set for it would check nothing: refused."""
    problem = missing_credential("freshdesk", HelpdeskOptions(secret="x"))
    assert problem is not None and 'token = "a long random string"' in problem
    with pytest.raises(SignatureError):
        verify("freshdesk", HelpdeskOptions(secret="x"), {}, BODY)


@pytest.mark.parametrize("name", ["zendesk", "helpscout", "freescout", "zammad"])
def test_unconfigured_helpdesks_say_how_to_configure(name: str) -> None:
    problem = missing_credential(name, None)
    assert problem == (
        f'the {name} integration is not configured: set [integrations.{name}] secret = "the '
        'signing secret" in inkling.toml (see docs/connect-helpdesks.md)'
    )
    assert missing_credential(name, SIGNED) is None
