"""Helpers for instrumentation tests: decode what the rewriter wrote, undo it to compare."""

from __future__ import annotations

import re

from inkling.instrument.links import MessageLinks
from inkling.tokens import TokenCodec

BASE = "https://track.example.net"
CLICK = re.compile(re.escape(BASE).encode() + rb"/t/c/([A-Za-z0-9_-]+)")
PIXEL = re.compile(rb'<img src="' + re.escape(BASE).encode() + rb'/t/o/[a-z0-9]+\.gif"[^>]*>')
HONEYPOT = re.compile(
    rb'<a href="' + re.escape(BASE).encode() + rb'/t/h/([0-9a-f]+)"[^>]*'
    rb'data-inkling="honeypot"[^>]*></a>'
)


def tracked_targets(codec: TokenCodec, output: bytes, original: bytes = b"") -> list[str]:
    """The target of every tracker link in ``output`` that was not already in ``original``
    (links already tracked are left as they were), in document order."""
    new = (m for m in CLICK.finditer(output) if m.group(0) not in original)
    return [codec.decode_click(m.group(1).decode()).url for m in new]


class MarkingLinks(MessageLinks):
    """Replaces each tracked href with a numbered marker and remembers the original
    value as written, so a test can undo the rewrite and compare bytes."""

    def __init__(self, codec: TokenCodec) -> None:
        super().__init__(codec, BASE, "a" * 20, 0)
        self.originals: list[str] = []

    def track_attribute(self, raw_value: str) -> str | None:
        if super().track_attribute(raw_value) is None:
            return None
        self.originals.append(raw_value)
        return f"@@INKLING{len(self.originals) - 1}@@"


def undo_markers(output: bytes, originals: list[str], charset: str) -> bytes:
    """``output`` with every marker replaced by the value it stood for."""
    return re.sub(
        rb"@@INKLING(\d+)@@",
        lambda m: originals[int(m.group(1))].encode(charset, "surrogateescape"),
        output,
    )
