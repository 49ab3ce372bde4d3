"""Hostile MIME never raises: the defect is recorded, and the output is the input with only
its tracked links changed (or nothing at all).

Each ``tests/fixtures/instrument-hostile/NAME.eml`` has a ``NAME.expect.json``: the
defects Inkling must record (each a part of one sentence in ``Instrumented.defects``) and
the links it must track, as written and as the target a browser requests.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from inkling.errors import InstrumentError
from inkling.instrument import instrument_message
from inkling.tokens import TokenCodec
from tests.conftest import FIXTURES
from tests.instrument.helpers import BASE, CLICK, HONEYPOT, PIXEL

HOSTILE = sorted((FIXTURES / "instrument-hostile").glob("*.eml"))


def test_there_are_enough_hostile_messages() -> None:
    assert len(HOSTILE) >= 15


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_hostile_message(codec: TokenCodec, path: Path) -> None:
    expected = json.loads(path.with_suffix(".expect.json").read_text())
    original = path.read_bytes()
    result = instrument_message(original, codec=codec, base_url=BASE, message="9" * 20, sent_at=1)
    for defect in expected["defects"]:
        assert any(defect in recorded for recorded in result.defects), (defect, result.defects)
    assert len(result.defects) == len(expected["defects"]), result.defects

    links = expected["links"]
    output = HONEYPOT.sub(b"", PIXEL.sub(b"", result.mime))
    found = [codec.decode_click(m.group(1).decode()).url for m in CLICK.finditer(output)]
    assert found == [link["target"] for link in links]
    written = iter(link["written"].encode() for link in links)
    assert CLICK.sub(lambda _: next(written), output) == original
    assert result.links == list(dict.fromkeys(link["target"] for link in links))
    for text in result.defects + result.warnings:
        assert text.isprintable() and text.isascii(), "a message must not reach a terminal raw"


def _mutations(data: bytes, count: int, seed: int) -> list[bytes]:
    """Fixtures with bytes flipped, lines dropped or doubled, cut short: what a broken
    relay or a fuzzer makes of mail."""
    rng = random.Random(seed)
    lines = data.split(b"\n")
    out = []
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            out.append(bytes(mutated))
        elif kind == 1:
            keep = [line for line in lines if rng.random() > 0.2]
            out.append(b"\n".join(keep))
        elif kind == 2:
            i = rng.randrange(len(lines))
            out.append(b"\n".join(lines[:i] + [lines[i]] * rng.randint(2, 50) + lines[i:]))
        else:
            out.append(data[: rng.randrange(1, len(data))])
    return out


SEEDS = sorted(HOSTILE + sorted((FIXTURES / "eml").glob("*.eml")))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_mutated_mail_never_raises(codec: TokenCodec, path: Path) -> None:
    for index, raw in enumerate(_mutations(path.read_bytes(), 40, seed=len(path.stem))):
        try:
            result = instrument_message(
                raw, codec=codec, base_url=BASE, message="8" * 20, sent_at=1
            )
        except InstrumentError:
            continue  # "not a MIME message" is an answer, not a crash
        assert isinstance(result.mime, bytes), index
        for link in result.links:
            assert link.isascii() and not re.search(r"[\x00-\x20\x7f]", link), link
