"""Malformed mail is data: no input bytes make the parser raise."""

from __future__ import annotations

import random

import pytest

from inkling.inbound import Parsed, parse_message
from tests.inbound.conftest import INBOUND

CORPUS = sorted(p for p in INBOUND.rglob("*") if p.is_file() and p.suffix not in {".json", ".md"})


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00" * 100,
        b"\r\n\r\n\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n",
        b"Content-Type: message/delivery-status\n\nFinal-Recipient: ;\nAction:\nStatus: 9.9",
        b'Content-Type: multipart/mixed; boundary=""\n\n--\n--\n',
        b"Subject: =?utf-8?q?=ff=fe?= =?bogus?b?!!!?=\nFrom: <<<@>>>\n\nbody",
        b"Content-Type: message/rfc822\n\n" * 200,
        b"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; "
        b"boundary=a\n\n" * 50,
        b"Content-Transfer-Encoding: base64\nContent-Type: text/plain; charset=utf-99\n\n!!!",
    ],
)
def test_hostile_inputs_never_raise(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed, Parsed)
    parsed.as_json()


def test_random_bytes_never_raise() -> None:
    rnd = random.Random(3834)
    for _ in range(200):
        raw = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 3000)))
        assert parse_message(raw).kind in {"other", "reply", "autoreply", "bounce"}


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_cut_of_every_sample_parses(path: object) -> None:
    """Truncated anywhere (mail cut off in transit), a sample still parses."""
    raw = path.read_bytes()  # type: ignore[attr-defined]
    for cut in range(0, len(raw), max(1, len(raw) // 12)):
        parse_message(raw[:cut]).as_json()
