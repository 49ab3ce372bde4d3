"""Each workflow policy instruments exactly what it allows, on every path mail leaves by;
an opted-out address or domain is never tracked again; the disclosure line links the
customer's notice."""

from __future__ import annotations

import email
import re
from email.policy import compat32
from pathlib import Path

import pytest

from inkling import root
from inkling.config import Settings
from inkling.privacy.guard import Finding
from inkling.privacy.policy import Policy, Tracking, decide
from inkling.relay import CopyPlan
from inkling.relay.copies import Copy
from inkling.tokens import new_message_id
from tests.relay.messages import LINKS, support_reply

BASE_URL = "https://t.acme.example"
PIXEL = re.compile(rb"https://t\.acme\.example/t/o/[A-Za-z0-9_-]+\.gif")
CLICK = re.compile(rb"https://t\.acme\.example/t/c/[A-Za-z0-9_-]+")
HONEYPOT = re.compile(rb"https://t\.acme\.example/t/h/[A-Za-z0-9_-]+")
NOTICE = re.compile(rb"https://t\.acme\.example/p/[A-Za-z0-9_-]+")
ANN = "ann@customer.example"


def _copy(
    tmp_path: Path,
    raw: bytes,
    recipients: list[str],
    optouts: tuple[str, ...] = (),
    **workflow: object,
) -> Copy:
    settings = Settings(
        data_dir=tmp_path / "data",
        base_url=BASE_URL,
        workflows={"billing": workflow} if workflow else {},
    )
    services = root.open_services(settings)
    book = root.opt_outs(services)
    for target in optouts:
        book.add(target, source="cli")
    plan = CopyPlan(new_message_id(), 1_790_000_000, recipients)
    (copy,) = root.outbound(settings, services).maker.make(
        raw, "support@acme.example", [plan], workflow="billing"
    )
    services.store.close()
    return copy


def _bodies(data: bytes) -> tuple[bytes, bytes]:
    """The decoded text and HTML bodies of a multipart/alternative copy."""
    parsed = email.message_from_bytes(data, policy=compat32)
    found: dict[str, bytes] = {}
    for part in parsed.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found[part.get_content_type()] = payload
    return found["text/plain"], found["text/html"]


def test_full_tracking_has_the_pixel_the_honeypot_and_every_link(tmp_path: Path) -> None:
    copy = _copy(tmp_path, support_reply(to=ANN), [ANN])
    assert PIXEL.search(copy.data) and HONEYPOT.search(copy.data)
    assert len(CLICK.findall(copy.data)) == 4 and copy.links == LINKS
    assert (copy.record.tracking, copy.record.untracked) == ("full", None)
    assert not NOTICE.search(copy.data)  # no disclosure unless the workflow asks


def test_clicks_tracks_the_links_and_adds_no_pixel(tmp_path: Path) -> None:
    copy = _copy(tmp_path, support_reply(to=ANN), [ANN], tracking="clicks")
    assert not PIXEL.search(copy.data)
    assert len(CLICK.findall(copy.data)) == 4 and copy.links == LINKS
    assert (copy.record.tracking, copy.record.untracked) == ("clicks", "policy")


def test_none_sends_the_message_byte_for_byte(tmp_path: Path) -> None:
    raw = support_reply(to=ANN)
    copy = _copy(tmp_path, raw, [ANN], tracking="none", disclosure=True, read_receipt=False)
    assert copy.data == raw
    assert (copy.record.tracking, copy.record.untracked, copy.links) == ("none", "policy", [])


@pytest.mark.parametrize(
    ("tracking", "words"),
    [
        ("full", b"uses a tracking pixel and tracked links"),
        ("clicks", b"uses tracked links to help us follow up"),
    ],
)
def test_disclosure_links_the_notice_in_html_and_text(
    tmp_path: Path, tracking: str, words: bytes
) -> None:
    copy = _copy(tmp_path, support_reply(to=ANN), [ANN], tracking=tracking, disclosure=True)
    text, html = _bodies(copy.data)
    for part in (html, text):
        assert words in part and NOTICE.search(part), part
    assert b'">Why, and how to turn it off</a></p>' in html
    assert html.index(b"Why, and how") < html.index(b"</body>")
    # the notice link itself is not tracked
    assert len(CLICK.findall(html + text)) == 4 and copy.links == LINKS


@pytest.mark.parametrize("target", [ANN, "ANN@Customer.Example", "@customer.example"])
def test_an_opted_out_address_or_domain_is_not_tracked(tmp_path: Path, target: str) -> None:
    raw = support_reply(to=ANN)
    copy = _copy(tmp_path, raw, [ANN], optouts=(target,), tracking="full", disclosure=True)
    assert copy.data == raw
    assert (copy.record.tracking, copy.record.untracked) == ("none", "opt_out")


def test_another_domain_is_still_tracked(tmp_path: Path) -> None:
    copy = _copy(tmp_path, support_reply(to=ANN), [ANN], optouts=("@other.example",))
    assert copy.record.tracking == "full" and PIXEL.search(copy.data)


def test_sensitive_content_stops_tracking_and_says_why(tmp_path: Path) -> None:
    raw = support_reply(to=ANN).replace(b"Hello, see", b"Your card 4111 1111 1111 1111: see")
    copy = _copy(tmp_path, raw, [ANN], tracking="clicks", disclosure=True)
    assert copy.data == raw
    assert (copy.record.tracking, copy.record.untracked) == ("none", "sensitive: card number")


def test_a_password_reset_link_is_left_alone_and_the_pixel_dropped(tmp_path: Path) -> None:
    reset = "https://acme.example/password/reset?token=s3cr3t"
    raw = support_reply(to=ANN).replace(LINKS[1].encode(), reset.encode())
    copy = _copy(tmp_path, raw, [ANN])
    assert copy.data.count(reset.encode()) == 2  # in the html part and the text part
    assert copy.links == [LINKS[0]] and not PIXEL.search(copy.data)
    assert (copy.record.tracking, copy.record.untracked) == (
        "clicks",
        "sensitive: password reset link",
    )


def test_the_strictest_limit_wins_and_the_policy_names_a_tie() -> None:
    card = [Finding("card number", "...1111")]
    assert decide(Policy(Tracking.NONE), opted_out=True).why == "policy"
    assert decide(Policy(Tracking.CLICKS), opted_out=True).why == "opt_out"
    assert decide(Policy(Tracking.FULL), findings=card).why == "sensitive: card number"
    full = decide(Policy(Tracking.FULL, read_receipt=True, disclosure=True))
    assert (full.tracking, full.read_receipt, full.disclosure, full.why) == (
        Tracking.FULL,
        True,
        True,
        None,
    )
    off = decide(Policy(Tracking.FULL, read_receipt=True, disclosure=True), opted_out=True)
    assert (off.read_receipt, off.disclosure) == (False, False)


@pytest.mark.parametrize(
    ("insert", "tracking", "why"),
    [
        (b"Your card 4111 1111 1111 1111: see", "none", "sensitive: card number"),
        (
            b"Reset: https://acme.example/password/reset?t=1 and see",
            "clicks",
            "sensitive: password reset link",
        ),
    ],
)
def test_every_copy_of_a_message_gets_the_guards_decision(
    tmp_path: Path, insert: bytes, tracking: str, why: str
) -> None:
    """The guard reads a message once for all its copies; each copy carries its answer,
    also after a first copy that was not instrumented at all (opted out)."""
    bob = "bob@customer.example"
    raw = support_reply().replace(b"Hello, see", insert)
    settings = Settings(data_dir=tmp_path / "data", base_url=BASE_URL)
    services = root.open_services(settings)
    root.opt_outs(services).add(bob, source="cli")
    plans = [CopyPlan(new_message_id(), 1_790_000_000, [r]) for r in (bob, ANN, "cy@x.example")]
    copies = root.outbound(settings, services).maker.make(raw, "support@acme.example", plans)
    services.store.close()
    assert [(c.record.tracking, c.record.untracked) for c in copies] == [
        ("none", "opt_out"),
        (tracking, why),
        (tracking, why),
    ]
    assert all(not PIXEL.search(c.data) for c in copies)
