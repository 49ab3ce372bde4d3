"""The import endpoint and the providers' webhooks, over HTTP on the real app: a payload
whose signature verifies is recorded, one that does not is refused with 401 and leaves
nothing behind. Keys, secrets and the SNS certificate are made here, for these tests."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from fastapi import FastAPI

from inkling import root
from inkling.api.keys import ApiKeys
from inkling.api.providers import events_router
from inkling.classify import Classifier
from inkling.config import ProviderSettings, Settings
from inkling.datadir import DataDir
from inkling.errors import SignatureError
from inkling.model import MessageIdHeader, MessageRecord
from inkling.providers import Importer, ReceiverOptions, Receivers
from inkling.providers.sns import fetch_from_amazon, string_to_sign
from inkling.root import Services
from inkling.store import Store
from inkling.tokens import TokenCodec, new_message_id
from tests.conftest import FIXTURES

PAYLOADS = FIXTURES / "providers"
SENDGRID_ID = "<14c5d75ce93.dfd.64b469@ismtpd-555>"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
MAILGUN_KEY = "key-made-for-this-test"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _call(app: FastAPI, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as client:
            return await client.post(path, content=body, headers=headers)

    return asyncio.run(post())


def _register(store: Store, message_id: str, recipient: str) -> MessageRecord:
    record = MessageRecord(
        new_message_id(), MessageIdHeader(message_id), None, "1", "Hi", 1_500_000_000, 1,
        recipient,
    )  # fmt: skip
    store.messages.register(record, ["http://www.sendgrid.com/"])
    return record


@pytest.fixture
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def app(store: Store, data_dir: Path, sendgrid_key: ec.EllipticCurvePrivateKey) -> FastAPI:
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    providers = {
        "sendgrid": ProviderSettings(public_key=base64.b64encode(public).decode()),
        "mailgun": ProviderSettings.model_validate({"signing_key": MAILGUN_KEY}),
    }
    settings = Settings(data_dir=data_dir, providers=providers)
    codec = TokenCodec.for_data_dir(data_dir)
    return root.api(settings, Services(DataDir(data_dir), store, codec, settings.base_url))


def _signed(key: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str) -> dict[str, str]:
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def test_a_signed_sendgrid_batch_is_recorded(
    app: FastAPI, store: Store, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    record = _register(store, SENDGRID_ID, "example@test.com")
    body = (PAYLOADS / "sendgrid-events.json").read_bytes()
    answer = _call(
        app, "/api/v1/providers/sendgrid", body, _signed(sendgrid_key, body, "1513299569")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 8
    assert len(store.events.for_message(record.id)) == 8


def test_a_tampered_sendgrid_batch_is_refused_and_nothing_recorded(
    app: FastAPI, store: Store, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    _register(store, SENDGRID_ID, "example@test.com")
    body = (PAYLOADS / "sendgrid-events.json").read_bytes()
    headers = _signed(sendgrid_key, body, "1513299569")
    tampered = body.replace(b"255.255.255.255", b"255.255.255.254")
    for sent, sent_headers in [
        (tampered, headers),
        (body, {**headers, "X-Twilio-Email-Event-Webhook-Timestamp": "1513299570"}),
        (body, {"Content-Type": "application/json"}),
    ]:
        answer = _call(app, "/api/v1/providers/sendgrid", sent, sent_headers)
        assert answer.status_code == 401
    assert store.events.count() == 0


def _mailgun(name: str, key: str) -> bytes:
    payload = json.loads((PAYLOADS / name).read_text())
    block = payload["signature"]
    block["signature"] = hmac.new(
        key.encode(), (block["timestamp"] + block["token"]).encode(), hashlib.sha256
    ).hexdigest()
    return json.dumps(payload).encode()


def test_mailgun_needs_its_hmac(app: FastAPI, store: Store) -> None:
    record = _register(
        store, "<20130503182626.18666.16540@sandbox.mailgun.org>", "alice@example.com"
    )
    forged = _call(app, "/api/v1/providers/mailgun", _mailgun("mailgun-failed.json", "guess"), {})
    assert forged.status_code == 401 and store.events.count() == 0
    good = _call(app, "/api/v1/providers/mailgun", _mailgun("mailgun-failed.json", MAILGUN_KEY), {})
    assert good.status_code == 200, good.text
    assert [e.kind for e in store.events.for_message(record.id)] == ["bounce"]


def test_a_provider_not_set_up_has_no_receiver(app: FastAPI, store: Store) -> None:
    body = (PAYLOADS / "postmark-open.json").read_bytes()
    answer = _call(app, "/api/v1/providers/postmark", body, {"Authorization": "Basic eDp5"})
    assert answer.status_code == 403
    assert "[providers.postmark]" in answer.json()["detail"]
    assert _call(app, "/api/v1/providers/nobody", body, {}).status_code == 422


def test_postmark_basic_authentication(store: Store, data_dir: Path) -> None:
    _register(store, "<welcome-1@help.example>", "john@example.com")
    options = ReceiverOptions(postmark_username="inkling", postmark_password="s3cret")
    app = _router_app(store, options)
    body = (PAYLOADS / "postmark-bounce.json").read_bytes()
    wrong = base64.b64encode(b"inkling:guess").decode()
    assert (
        _call(
            app, "/api/v1/providers/postmark", body, {"Authorization": f"Basic {wrong}"}
        ).status_code
        == 401
    )
    right = base64.b64encode(b"inkling:s3cret").decode()
    answer = _call(app, "/api/v1/providers/postmark", body, {"Authorization": f"Basic {right}"})
    assert answer.status_code == 200 and answer.json()["imported"] == 1


def test_the_import_endpoint_takes_an_api_key_and_names_bad_lines(
    app: FastAPI, store: Store, data_dir: Path
) -> None:
    key = ApiKeys.for_data_dir(data_dir).add("helpdesk")
    lines = [
        {"type": "sent", "message": "<a1@help.example>", "recipient": "ana@customer.example",
         "ts": "2026-12-04T16:00:00+01:00", "links": ["https://help.example/a"]},
        {"type": "click", "message": "<a1@help.example>", "ts": 1796400000, "link": 0,
         "ip": "81.2.69.160", "ua": FIREFOX},
        {"type": "reply", "message": "<unknown@help.example>", "ts": 1796400000},
    ]  # fmt: skip
    body = json.dumps(lines).encode()
    assert _call(app, "/api/v1/events", body, {}).status_code == 401
    answer = _call(app, "/api/v1/events", body, {"Authorization": f"Bearer {key}"})
    assert answer.status_code == 422
    assert answer.json() == {
        "imported": 2,
        "duplicates": 0,
        "ignored": 0,
        "bad": [{"line": 3, "error": "no message <unknown@help.example>"}],
    }
    again = _call(app, "/api/v1/events", b"\n".join(json.dumps(x).encode() for x in lines[:2]),
                  {"Authorization": f"Bearer {key}"})  # fmt: skip
    assert again.status_code == 200 and again.json()["duplicates"] == 2


# -- Amazon SES through SNS -------------------------------------------------------------


def _router_app(store: Store, options: ReceiverOptions) -> FastAPI:
    importer = Importer(store, Classifier())
    app = FastAPI()
    app.include_router(
        events_router(importer=importer, receivers=Receivers(importer, options), user=lambda: "t")
    )
    return app


class _Amazon:
    """A certificate made for the test, and a fetch that serves it (recording what it
    was asked for) in place of amazonaws.com."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.datetime.now(datetime.UTC)
        self.pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.pem if url == CERT_URL else b"<ConfirmSubscriptionResponse/>"

    def signed(self, message: dict[str, Any], version: str = "1") -> bytes:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        return json.dumps({**message, "Signature": base64.b64encode(signature).decode()}).encode()


def _notification(event_file: str) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Subject": "Amazon SES Email Event Notification",
        "Message": (PAYLOADS / event_file).read_text(),
        "Timestamp": "2017-08-09T22:00:20.000Z",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }


@pytest.fixture
def amazon() -> _Amazon:
    return _Amazon()


@pytest.fixture
def ses_app(store: Store, amazon: _Amazon) -> FastAPI:
    return _router_app(store, ReceiverOptions(ses_topic_arns=(TOPIC,), fetch=amazon.fetch))


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_sns_notification_is_recorded(
    ses_app: FastAPI, store: Store, amazon: _Amazon, version: str
) -> None:
    record = _register(store, "<ses-1@help.example>", "recipient@example.com")
    body = amazon.signed(_notification("ses-bounce.json"), version)
    answer = _call(ses_app, "/api/v1/providers/ses", body, {"Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text
    assert [e.details["reason"] for e in store.events.for_message(record.id)] == ["userunknown"]
    _call(ses_app, "/api/v1/providers/ses", amazon.signed(_notification("ses-open.json")), {})
    assert amazon.fetched == [CERT_URL]  # fetched once, then cached


def test_a_forged_sns_notification_records_nothing(
    ses_app: FastAPI, store: Store, amazon: _Amazon
) -> None:
    _register(store, "<ses-1@help.example>", "recipient@example.com")
    genuine = json.loads(amazon.signed(_notification("ses-bounce.json")))
    tampered = {**genuine, "Message": genuine["Message"].replace("5.1.1", "4.2.2")}
    elsewhere = {**_notification("ses-bounce.json"), "TopicArn": TOPIC + "-other"}
    for body in (json.dumps(tampered).encode(), amazon.signed(elsewhere)):
        assert _call(ses_app, "/api/v1/providers/ses", body, {}).status_code == 401
    assert store.events.count() == 0


def test_a_certificate_from_elsewhere_is_never_fetched(ses_app: FastAPI, amazon: _Amazon) -> None:
    genuine = json.loads(amazon.signed(_notification("ses-open.json")))
    for url in (
        "https://evil.example/cert.pem",
        "http://sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
        "https://user@sns.us-east-1.amazonaws.com/cert.pem",
    ):
        body = json.dumps({**genuine, "SigningCertURL": url}).encode()
        answer = _call(ses_app, "/api/v1/providers/ses", body, {})
        assert answer.status_code == 401 and "refusing to fetch" in answer.json()["detail"]
    assert amazon.fetched == []


def test_the_default_fetch_refuses_other_hosts_before_connecting() -> None:
    with pytest.raises(SignatureError, match=r"not an https amazonaws\.com URL"):
        fetch_from_amazon("https://127.0.0.1/SimpleNotificationService.pem")


def test_a_subscription_is_confirmed(ses_app: FastAPI, amazon: _Amazon) -> None:
    subscribe = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"
    message = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "abc",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": subscribe,
        "Timestamp": "2012-04-26T20:45:04.751Z",
    }
    answer = _call(ses_app, "/api/v1/providers/ses", amazon.signed(message), {})
    assert answer.status_code == 200 and answer.json() == {"note": f"subscribed to {TOPIC}"}
    assert amazon.fetched == [CERT_URL, subscribe]
