"""The relay end to end: real SMTP clients (smtplib, swaks) through the relay to a real
upstream (an aiosmtpd sink), and what the store holds afterwards."""

from __future__ import annotations

import email
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from email.message import Message
from email.policy import compat32

import pytest

from inkling import root
from inkling.errors import AmbiguousMessage
from inkling.mail.returnpath import ReturnKind, decode_return_address
from inkling.model import InklingId
from inkling.tokens import HONEYPOT_LINK, TokenCodec
from tests.relay.conftest import BASE_URL, Received, Relay, RelayFactory, Sink
from tests.relay.messages import LINKS, support_reply

CLICK = re.compile(re.escape(BASE_URL).encode() + rb"/t/c/([A-Za-z0-9_-]+)")
PIXEL = re.compile(re.escape(BASE_URL).encode() + rb"/t/o/([a-f0-9]+)\.gif")
ANN, BOB = "ann@customer.example", "bob@customer.example"


def _send(relay: Relay, message: bytes, recipients: list[str], **login: str) -> dict[str, object]:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        if login:
            client.starttls(context=_unverified())
            client.login(login["user"], login["password"])
        return client.sendmail("support@acme.example", recipients, message)  # type: ignore[return-value]


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=compat32)


def _copy_ids(codec: TokenCodec, copy: bytes) -> tuple[set[InklingId], list[str]]:
    """The Inkling message ids named by a copy's tokens, and its tracked link targets."""
    clicks = [codec.decode_click(m.group(1).decode()) for m in CLICK.finditer(copy)]
    opens = [codec.decode_open(m.group(1).decode()) for m in PIXEL.finditer(copy)]
    ids = {c.message for c in clicks} | {o.message for o in opens}
    return ids, [c.url for c in clicks if c.link != HONEYPOT_LINK]


def _one_each(received: list[Received]) -> dict[str, Received]:
    assert all(len(r.rcpt_tos) == 1 for r in received)
    by_recipient = {r.rcpt_tos[0]: r for r in received}
    assert len(by_recipient) == len(received)
    return by_recipient


def test_each_recipient_gets_an_instrumented_copy_of_its_own(relay: Relay, sink: Sink) -> None:
    message = support_reply(
        extra_headers="X-Inkling-Workflow: billing\r\nX-Inkling-Ticket: 4821\r\n"
    )
    assert _send(relay, message, [ANN, BOB]) == {}
    copies = _one_each(sink.wait_for(2))
    assert set(copies) == {ANN, BOB}
    codec, store = relay.services.codec, relay.services.store
    seen: set[str] = set()
    for recipient, copy in copies.items():
        ids, targets = _copy_ids(codec, copy.content)
        assert len(ids) == 1 and not ids & seen
        seen |= ids
        assert targets == LINKS + LINKS  # html part, then text part
        parsed = _parse(copy.content)
        assert parsed["X-Inkling-Workflow"] is None and parsed["X-Inkling-Ticket"] is None
        assert parsed["Message-ID"] == "<reply-1@acme.example>"
        record = store.messages.find("<reply-1@acme.example>", recipient=recipient)
        assert record.id in ids
        assert (record.workflow, record.ticket, record.untracked) == ("billing", "4821", None)
        assert record.relayed_at is not None and record.links_total == len(LINKS)
        assert copy.mail_from == "support@acme.example"  # no return domain configured
    with pytest.raises(AmbiguousMessage):
        store.messages.find("<reply-1@acme.example>")


def test_one_copy_for_all_when_configured(relay_factory: RelayFactory, sink: Sink) -> None:
    relay = relay_factory(relay_per_recipient=False)
    _send(relay, support_reply(), [ANN, BOB])
    (copy,) = sink.wait_for(1)
    assert copy.rcpt_tos == [ANN, BOB]
    record = relay.services.store.messages.find("<reply-1@acme.example>")
    assert record.recipient == f"{ANN}, {BOB}"
    assert _copy_ids(relay.services.codec, copy.content)[0] == {record.id}


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_through_the_relay(relay: Relay, sink: Sink, tmp_path: object) -> None:
    result = subprocess.run(
        [
            "swaks", "--server", f"127.0.0.1:{relay.port}", "--from", "support@acme.example",
            "--to", f"{ANN},{BOB}", "--header", "Subject: From swaks",
            "--add-header", "X-Inkling-Ticket: 77",
            "--body", f"Please read {LINKS[0]} today.",
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    copies = _one_each(sink.wait_for(2))
    ids = [_copy_ids(relay.services.codec, c.content) for c in copies.values()]
    assert all(targets == [LINKS[0]] for _, targets in ids)
    assert ids[0][0] != ids[1][0]
    assert all(b"X-Inkling-Ticket" not in c.content for c in copies.values())
    message_id = _parse(copies[ANN].content)["Message-ID"]
    assert relay.services.store.messages.find(message_id, recipient=BOB).ticket == "77"


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_with_starttls_and_auth(relay_factory: RelayFactory, sink: Sink) -> None:
    relay = relay_factory(relay_username="helpdesk", relay_password="s3cret")
    base = ["swaks", "--server", f"127.0.0.1:{relay.port}", "--from", "support@acme.example",
            "--to", ANN, "--body", f"See {LINKS[1]}"]  # fmt: skip
    refused = subprocess.run(base, capture_output=True, text=True, timeout=30, check=False)
    assert refused.returncode != 0 and "530" in refused.stdout
    accepted = subprocess.run(
        [*base, "--tls", "--auth", "PLAIN", "--auth-user", "helpdesk", "--auth-password", "s3cret"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stdout
    assert "STARTTLS" in accepted.stdout
    assert len(sink.wait_for(1)) == 1


def test_auth_is_required_and_starttls_works(relay_factory: RelayFactory, sink: Sink) -> None:
    relay = relay_factory(relay_username="helpdesk", relay_password="s3cret")
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("support@acme.example", [ANN], support_reply())
        assert refused.value.smtp_code == 530
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.starttls(context=_unverified())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("helpdesk", "wrong")
    assert _send(relay, support_reply(), [ANN], user="helpdesk", password="s3cret") == {}
    assert len(sink.wait_for(1)) == 1


def test_upstream_down_is_451_and_nothing_is_registered(relay_factory: RelayFactory) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    relay = relay_factory(relay_upstream=f"smtp://127.0.0.1:{closed}")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(relay, support_reply(), [ANN, BOB])
    assert {code for code, _ in refused.value.recipients.values()} == {451}
    assert relay.services.store.messages.copies_of("<reply-1@acme.example>") == []


def test_a_recipient_the_upstream_refuses_is_refused_to_the_client(
    relay: Relay, sink: Sink
) -> None:
    sink.handler.refuse_rcpt[BOB] = "550 5.1.1 no such user"
    refused = _send(relay, support_reply(), [ANN, BOB])
    assert refused == {BOB: (550, b"5.1.1 no such user")}
    assert [c.rcpt_tos for c in sink.wait_for(1)] == [[ANN]]
    records = relay.services.store.messages.copies_of("<reply-1@acme.example>")
    assert [r.recipient for r in records] == [ANN]


def test_upstream_refusing_the_data_is_passed_back(relay: Relay, sink: Sink) -> None:
    sink.handler.refuse_data_for = {ANN: "554 5.7.1 content rejected", BOB: "554 5.7.1 no"}
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(relay, support_reply(), [ANN, BOB])
    assert refused.value.smtp_code == 554
    assert sink.handler.received == []
    assert sink.handler.transactions == 1  # stopped at the first refusal
    assert relay.services.store.messages.copies_of("<reply-1@acme.example>") == []


def test_partial_refusal_after_a_delivery_is_reported_to_the_sender(
    relay: Relay, sink: Sink
) -> None:
    sink.handler.refuse_data_for = {BOB: "550 5.2.2 mailbox full"}
    assert _send(relay, support_reply(), [ANN, BOB]) == {}
    delivered, report = sink.wait_for(2)
    assert delivered.rcpt_tos == [ANN]
    assert (report.mail_from, report.rcpt_tos) == ("<>", ["support@acme.example"])
    assert b"Status: 5.2.2" in report.content and BOB.encode() in report.content
    records = relay.services.store.messages.copies_of("<reply-1@acme.example>")
    assert [r.recipient for r in records] == [ANN]


def test_a_retry_after_a_lost_reply_is_not_sent_twice(relay: Relay, sink: Sink) -> None:
    _send(relay, support_reply(), [ANN])
    _send(relay, support_reply(), [ANN, BOB])
    received = sink.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == [ANN, BOB]
    time.sleep(0.1)
    assert len(sink.handler.received) == 2


def test_client_gone_mid_data_leaves_no_trace(relay: Relay, sink: Sink) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as raw:
        reader = raw.makefile("rb")
        reader.readline()
        commands = [b"EHLO me", b"MAIL FROM:<support@acme.example>", f"RCPT TO:<{ANN}>".encode()]
        for command in [*commands, b"DATA"]:
            raw.sendall(command + b"\r\n")
            line = reader.readline()
            while line[3:4] == b"-":
                line = reader.readline()
            assert line[:1] in (b"2", b"3"), line
        raw.sendall(support_reply()[:200])
        reader.close()
    deadline = time.monotonic() + 2
    while sink.handler.transactions == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.handler.received == [] and sink.handler.transactions == 0
    assert relay.services.store.messages.copies_of("<reply-1@acme.example>") == []


def test_untracked_workflow_is_forwarded_untouched(relay_factory: RelayFactory, sink: Sink) -> None:
    relay = relay_factory(workflows={"legal": {"tracking": "none"}})
    original = support_reply(extra_headers="X-Inkling-Workflow: legal\r\n")
    _send(relay, original, [ANN])
    (copy,) = sink.wait_for(1)
    assert copy.content == support_reply()  # only the X-Inkling header is gone
    record = relay.services.store.messages.find("<reply-1@acme.example>")
    assert (record.untracked, record.tracking, record.links_total) == ("policy", "none", 0)


def test_rules_pick_the_workflow_by_recipient(relay_factory: RelayFactory, sink: Sink) -> None:
    relay = relay_factory(
        workflows={"vip": {"tracking": "none"}},
        workflow_rules=[{"workflow": "vip", "recipient": "bob@*"}],
    )
    _send(relay, support_reply(), [ANN, BOB])
    copies = _one_each(sink.wait_for(2))
    assert copies[BOB].content == support_reply()
    assert CLICK.search(copies[ANN].content)
    store = relay.services.store
    assert store.messages.find("<reply-1@acme.example>", recipient=BOB).workflow == "vip"
    assert store.messages.find("<reply-1@acme.example>", recipient=ANN).workflow is None


def test_return_paths_name_their_copy(relay_factory: RelayFactory, sink: Sink) -> None:
    domain = "bounces.acme.example"
    relay = relay_factory(return_domain=domain, workflows={"billing": {"read_receipt": True}})
    message = support_reply(extra_headers="X-Inkling-Workflow: billing\r\n")
    _send(relay, message, [ANN, BOB])
    codec, store = relay.services.codec, relay.services.store
    for recipient, copy in _one_each(sink.wait_for(2)).items():
        record = store.messages.find("<reply-1@acme.example>", recipient=recipient)
        assert re.fullmatch(rf"bounces\+[0-9a-f]+@{re.escape(domain)}", copy.mail_from)
        bounce = decode_return_address(copy.mail_from.upper(), codec, domain)
        assert bounce is not None and (bounce.message, bounce.kind) == (record.id, "bounce")
        receipts = _parse(copy.content)["Disposition-Notification-To"]
        receipt = decode_return_address(f"<{receipts}>", codec, domain)
        assert receipt is not None and receipt.message == record.id
        assert receipt.kind is ReturnKind.RECEIPT


def test_decoding_refuses_what_is_not_a_genuine_return_address(codec: TokenCodec) -> None:
    from inkling.mail.returnpath import return_address
    from inkling.tokens import new_message_id

    domain = "bounces.acme.example"
    good = return_address(codec, new_message_id(), 1_790_000_000, ReturnKind.BOUNCE, domain)
    token = good.split("+", 1)[1].split("@", 1)[0]
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert decode_return_address(good, codec, domain) is not None
    for address in (
        good.replace(domain, "elsewhere.example"),
        good.replace("bounces+", "postmaster+"),
        f"bounces+{tampered}@{domain}",
        f"bounces@{domain}",
        "not an address",
    ):
        assert decode_return_address(address, codec, domain) is None, address


def test_an_opted_out_recipient_gets_an_untracked_copy(relay: Relay, sink: Sink) -> None:
    root.opt_outs(relay.services).add(BOB, source="cli")
    _send(relay, support_reply(), [ANN, BOB])
    copies = _one_each(sink.wait_for(2))
    assert copies[BOB].content == support_reply()
    assert CLICK.search(copies[ANN].content) and PIXEL.search(copies[ANN].content)
    store = relay.services.store
    bob = store.messages.find("<reply-1@acme.example>", recipient=BOB)
    assert (bob.tracking, bob.untracked, bob.links_total) == ("none", "opt_out", 0)
