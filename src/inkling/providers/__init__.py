"""Events recorded elsewhere: ``inkling events import``, ``POST /api/v1/events`` and the
email service providers' webhooks (SendGrid, Mailgun, Postmark, Amazon SES via SNS).

Lines of the ``inkling`` format (``lines.py``), or provider payloads mapped onto it by data
tables (``formats.toml``), go through one :class:`Importer`: sends registered, hits judged
exactly as the tracker's, mail events given their verdicts, all idempotent. Webhooks are
checked for their provider's signature first (``signatures.py``, ``sns.py``).
"""

from __future__ import annotations

from inkling.providers.formats import FORMATS
from inkling.providers.importer import BadLine, Importer, ImportResult, Item
from inkling.providers.reading import read_body, read_file
from inkling.providers.receivers import PROVIDERS, Received, ReceiverOptions, Receivers

__all__ = [
    "FORMATS",
    "PROVIDERS",
    "BadLine",
    "ImportResult",
    "Importer",
    "Item",
    "Received",
    "ReceiverOptions",
    "Receivers",
    "read_body",
    "read_file",
]
