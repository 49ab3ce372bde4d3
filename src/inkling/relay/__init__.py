"""The SMTP relay: accept mail from a helpdesk, instrument it, forward it upstream.

The public surface: :func:`start_relay` and :class:`RelayOptions` (``inkling serve
--relay-port``), and :class:`Outbound`, the outgoing half the sending API shares with it
(its copies, plans, outcomes and replies). ``docs/relay.md`` is the operator's guide.
"""

from inkling.relay.copies import TICKET_HEADER, WORKFLOW_HEADER, Copy, CopyPlan
from inkling.relay.delivery import IN_FLIGHT, Outcome
from inkling.relay.envelope import MAX_RECIPIENTS
from inkling.relay.logins import LoginLimits
from inkling.relay.outbound import NO_UPSTREAM, Outbound
from inkling.relay.server import RelayHandle, RelayOptions, start_relay
from inkling.relay.upstream import Reply

__all__ = [
    "IN_FLIGHT",
    "MAX_RECIPIENTS",
    "NO_UPSTREAM",
    "TICKET_HEADER",
    "WORKFLOW_HEADER",
    "Copy",
    "CopyPlan",
    "LoginLimits",
    "Outbound",
    "Outcome",
    "RelayHandle",
    "RelayOptions",
    "Reply",
    "start_relay",
]
