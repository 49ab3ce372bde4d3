"""The SMTP relay: accept mail from a helpdesk, instrument it, forward it upstream.

The public surface is :func:`start_relay` (wired into ``inkling serve --relay-port``),
:class:`Outbound`, the outgoing half the sending API shares with it, and
:func:`decode_return_address`, with which the inbound side maps a VERP bounce or a
read-receipt address back to its copy. ``docs/relay.md`` is the operator's guide.
"""

from inkling.relay.outbound import Outbound
from inkling.relay.returnpath import (
    ReturnAddress,
    ReturnKind,
    decode_return_address,
    return_address,
)
from inkling.relay.server import RelayHandle, start_relay

__all__ = [
    "Outbound",
    "RelayHandle",
    "ReturnAddress",
    "ReturnKind",
    "decode_return_address",
    "return_address",
    "start_relay",
]
