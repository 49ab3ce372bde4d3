"""DATA driven by hand, so that Inkling can record "committing" before the final dot.

aiosmtplib's ``data()`` writes the message and its terminating ``.`` in one go. The relay
needs a pause between the two: a message is delivered only once the upstream has the final
dot, so recording the copy as ``committing`` just before that dot draws the one line that
matters after a crash. Before it, nothing was delivered and a resend must send the copy;
after it, the upstream most likely has it (see ``delivery.py``).

This uses aiosmtplib's public protocol calls only (``execute_command``, ``write``,
``read_response``) and its own line-ending and dot-stuffing rules, so the bytes on the
wire are those ``data()`` would send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

START_INPUT = 354
#: RFC 5321 4.5.3.2.6: a client waits 10 minutes for the answer to the final dot (the
#: server may be scanning the message); giving up sooner makes the outcome in doubt.
FINAL_REPLY_SECONDS = 600.0

#: Called with the whole message written but not the final dot; False: do not send it.
BeforeFinalDot = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class DataResult:
    """How DATA ended: the upstream's reply, or where the conversation broke.

    ``code`` and ``text`` are the upstream's reply when it gave one. ``failure`` names
    what went wrong otherwise; ``after_dot`` says whether that happened after the final
    dot was written (then the upstream may have the message: the outcome is in doubt).
    ``held_back`` means ``before_final_dot`` said no and the dot was never sent.
    """

    code: int = 0
    text: str = ""
    failure: str | None = None
    after_dot: bool = False
    held_back: bool = False


async def send_data(
    client: aiosmtplib.SMTP,
    message: bytes,
    before_final_dot: BeforeFinalDot,
    timeout: float,
    final_timeout: float = FINAL_REPLY_SECONDS,
) -> DataResult:
    """DATA on an open transaction (MAIL and RCPT done): ``timeout`` for each step but
    the answer to the final dot, which may take ``final_timeout``. Closes ``client``
    when the conversation broke or the dot was held back (abandoning the transaction:
    without the final dot an SMTP server delivers nothing)."""
    protocol = client.protocol
    if protocol is None:
        return DataResult(failure="not connected")
    try:
        started = await protocol.execute_command(b"DATA", timeout=timeout)
        if started.code != START_INPUT:
            return DataResult(started.code, started.message)
        protocol.write(PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message)))
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        return DataResult(failure=type(exc).__name__)
    if not await before_final_dot():
        client.close()
        return DataResult(held_back=True)
    try:
        protocol.write(b".\r\n")
    except (aiosmtplib.SMTPException, OSError) as exc:  # the dot never left
        client.close()
        return DataResult(failure=type(exc).__name__)
    try:
        final = await protocol.read_response(timeout=final_timeout)
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        return DataResult(failure=type(exc).__name__, after_dot=True)
    return DataResult(final.code, final.message)
