"""Inbound mail: what came back after an agent hit send.

``parse_message(raw)`` classifies one message as a read receipt (``mdn``), a ``bounce``
(hard or soft, with every failed recipient, status code and reason), an abuse
``complaint``, an ``autoreply`` (vacation with its return date, or other automatic), a
person's ``reply``, a success report (``delivered``) or ``other``. It never raises.
"""

from inkling.inbound.model import AutoReply, Bounce, Kind, Mdn, Parsed
from inkling.inbound.parser import parse_message

__all__ = ["AutoReply", "Bounce", "Kind", "Mdn", "Parsed", "parse_message"]
