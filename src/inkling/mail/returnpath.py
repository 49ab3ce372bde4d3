"""Return paths: VERP envelope senders and read-receipt addresses that name their copy.

``bounces+TOKEN@return-domain`` and ``receipts+TOKEN@return-domain`` carry an open token
of the copy they belong to (lowercase hexadecimal, authenticated), so a bounce or a
receipt that comes back names its Inkling message exactly, without trusting anything else
in it, and a forged address decodes to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from inkling.errors import TokenError
from inkling.tokens import TokenCodec


class ReturnKind(StrEnum):
    """What comes back to a return address."""

    BOUNCE = "bounce"
    RECEIPT = "receipt"


_LOCAL_PARTS = {ReturnKind.BOUNCE: "bounces", ReturnKind.RECEIPT: "receipts"}
_KINDS = {local: kind for kind, local in _LOCAL_PARTS.items()}


@dataclass(frozen=True, slots=True)
class ReturnAddress:
    """A decoded return address: the copy it belongs to, and what it is for."""

    message: str
    kind: ReturnKind
    sent_at: int


def return_address(
    codec: TokenCodec, message: str, sent_at: int, kind: ReturnKind, domain: str
) -> str:
    """The address that brings a bounce (or receipt) of copy ``message`` back to Inkling."""
    return f"{_LOCAL_PARTS[kind]}+{codec.open_token(message, sent_at)}@{domain}"


def decode_return_address(address: str, codec: TokenCodec, domain: str) -> ReturnAddress | None:
    """The copy and kind an address names, or None if it is not a genuine return address
    of ``domain`` (another address, another domain, or a token that fails to authenticate).

    Mail servers may change the case of a local part, and the address may come in angle
    brackets (a Return-Path or an envelope recipient): both are accepted.
    """
    local, _, address_domain = address.strip().strip("<>").rpartition("@")
    if address_domain.lower().rstrip(".") != domain.lower():
        return None
    prefix, plus, token = local.partition("+")
    kind = _KINDS.get(prefix.lower())
    if kind is None or not plus:
        return None
    try:
        target = codec.decode_open(token.lower())
    except TokenError:
        return None
    return ReturnAddress(target.message, kind, target.sent_at)
