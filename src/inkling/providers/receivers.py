"""The providers' webhooks: a payload checked for its provider's signature, then imported.

Nothing of a payload whose signature fails is read further, let alone recorded. A
provider not set up in ``inkling.toml`` (``[providers.NAME]``) has no receiver: Inkling
could not tell its payloads from a forger's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from inkling.errors import ConfigError, SignatureError
from inkling.providers.importer import Importer, ImportResult, Item
from inkling.providers.reading import converted, decode, read_body
from inkling.providers.signatures import (
    sendgrid_key,
    verify_basic,
    verify_mailgun,
    verify_sendgrid,
)
from inkling.providers.sns import Fetch, SnsVerifier, fetch_from_amazon

PROVIDERS = ("sendgrid", "mailgun", "postmark", "ses")


@dataclass(frozen=True, slots=True)
class ReceiverOptions:
    """The secrets each provider's webhook is checked with (None: not set up)."""

    sendgrid_public_key: str | None = None
    mailgun_signing_key: str | None = None
    postmark_username: str | None = None
    postmark_password: str | None = None
    ses_topic_arns: tuple[str, ...] = ()
    #: How SNS certificates and subscription confirmations are fetched (tests hand in
    #: their own; the default fetches from https amazonaws.com URLs only).
    fetch: Fetch = field(default=fetch_from_amazon)


@dataclass(frozen=True, slots=True)
class Received:
    """What a webhook delivery did: the import's result, or a note (an SNS subscription
    confirmed)."""

    result: ImportResult | None = None
    note: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"note": self.note} if self.result is None else self.result.as_json()


class Receivers:
    """Checks and imports webhook payloads. ConfigError (at start-up) for a SendGrid key
    that cannot be read."""

    def __init__(self, importer: Importer, options: ReceiverOptions) -> None:
        self._importer = importer
        self._options = options
        try:
            key = options.sendgrid_public_key
            self._sendgrid = sendgrid_key(key) if key else None
        except ValueError as exc:
            raise ConfigError(
                f"[providers.sendgrid] public_key is not SendGrid's verification key: {exc}"
            ) from exc
        topics = options.ses_topic_arns
        self._sns = SnsVerifier(topics, options.fetch) if topics else None

    def receive(self, provider: str, headers: Mapping[str, str], body: bytes) -> Received:
        """Verify and import one delivery. ``headers`` with lowercase names. Raises
        SignatureError (nothing recorded), ConfigError (the provider is not set up) or
        IntakeError (the body is no payload at all)."""
        if provider == "sendgrid":
            items = self._sendgrid_items(headers, body)
        elif provider == "mailgun":
            items = self._mailgun_items(body)
        elif provider == "postmark":
            items = self._postmark_items(headers, body)
        elif provider == "ses":
            return self._ses(body)
        else:
            raise ConfigError(f"no provider {provider[:40]!r}; one of {', '.join(PROVIDERS)}")
        return Received(self._importer.run(list(items)))

    def _sendgrid_items(self, headers: Mapping[str, str], body: bytes) -> Iterator[Item]:
        if self._sendgrid is None:
            raise ConfigError(_not_set_up("sendgrid", "public_key"))
        verify_sendgrid(self._sendgrid, headers, body)
        return read_body(body, "sendgrid")

    def _mailgun_items(self, body: bytes) -> Iterator[Item]:
        key = self._options.mailgun_signing_key
        if not key:
            raise ConfigError(_not_set_up("mailgun", "signing_key"))
        payload = decode(body.decode("utf-8", errors="surrogateescape"))
        verify_mailgun(key, payload)
        return iter([(1, converted("mailgun", payload))])

    def _postmark_items(self, headers: Mapping[str, str], body: bytes) -> Iterator[Item]:
        username, password = self._options.postmark_username, self._options.postmark_password
        if not username or not password:
            raise ConfigError(_not_set_up("postmark", "username and password"))
        verify_basic(username, password, headers.get("authorization"))
        return read_body(body, "postmark")

    def _ses(self, body: bytes) -> Received:
        if self._sns is None:
            raise ConfigError(_not_set_up("ses", "topic_arns"))
        message = self._sns.verify(decode(body.decode("utf-8", errors="surrogateescape")))
        kind = message.get("Type")
        if kind == "SubscriptionConfirmation":
            self._sns.confirm(message)
            return Received(note=f"subscribed to {message.get('TopicArn')}")
        if kind != "Notification":
            return Received(note=f"{kind}: nothing to record")
        return Received(self._importer.run([(1, converted("ses", message))]))


def _not_set_up(provider: str, what: str) -> str:
    return (
        f"the {provider} webhook is not set up: [providers.{provider}] {what} in "
        "inkling.toml, so Inkling cannot tell its payloads from forged ones"
    )


__all__ = ["PROVIDERS", "Received", "ReceiverOptions", "Receivers", "SignatureError"]
