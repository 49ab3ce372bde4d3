"""The real mail server behind the relay, and one SMTP transaction with it.

Every failure to talk to it becomes a :class:`Reply` the relay can pass to its client: the
upstream's own 4xx or 5xx when it refused something, and ``451`` when it could not be
reached or the conversation broke, so the helpdesk keeps the message and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

import aiosmtplib

from inkling.errors import ConfigError
from inkling.relay.dataphase import BeforeFinalDot, DataResult, send_data

log = logging.getLogger(__name__)
TIMEOUT = 60.0
Mode = Literal["plain", "starttls", "tls"]
_MODES: dict[str, Mode] = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}


@dataclass(frozen=True, slots=True)
class Reply:
    """An SMTP reply, as the relay will give it to its client."""

    code: int
    text: str
    #: False when the reply is Inkling's own because the upstream could not be reached or
    #: would not let Inkling log in: the API tells "unreachable" (503) from "refused" (502).
    reached: bool = True
    #: The conversation broke after the final dot of DATA: the upstream may have the
    #: message. Inkling counts such a copy as delivered (see ``delivery.py``).
    in_doubt: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    @property
    def line(self) -> str:
        """The reply on one line (a multi-line upstream reply is joined with "; ")."""
        return f"{self.code} {'; '.join(self.text.splitlines()) or 'OK'}"


HELD_BACK = Reply(
    451,
    "4.3.0 Inkling could not record the delivery, so did not send it; try again later",
    reached=False,
)
IN_DOUBT = Reply(
    451,
    "4.4.2 the connection broke after the message was sent; it may have been delivered",
    reached=False,
    in_doubt=True,
)


async def _go_ahead() -> bool:
    return True


def unreachable(detail: str) -> Reply:
    return Reply(
        451, f"4.4.1 upstream mail server unavailable ({detail}); try again later", reached=False
    )


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where and how to forward: ``smtp://``, ``smtp+starttls://`` or ``smtps://``."""

    host: str
    port: int
    mode: Mode
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str | None) -> Upstream:
        if not url:
            raise ConfigError("the relay needs INKLING_RELAY_UPSTREAM (relay_upstream)")
        parts = urlsplit(url)
        mode = _MODES.get(parts.scheme)
        if mode is None or not parts.hostname or parts.port is None:
            raise ConfigError(f"bad setting INKLING_RELAY_UPSTREAM: cannot use {parts.scheme}://")
        return cls(
            host=parts.hostname,
            port=parts.port,
            mode=mode,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __repr__(self) -> str:  # never the password, in logs or tracebacks
        return f"Upstream({self.mode}://{self.host}:{self.port})"


class Transaction:
    """One upstream transaction: MAIL and RCPT as the client's arrive, then DATA or abort.

    The relay answers each RCPT with the upstream's own answer, so it holds the upstream
    transaction open between the client's RCPT and DATA. If the upstream dropped it in
    between (a slow client), :meth:`send` replays MAIL and RCPT on a fresh connection:
    nothing was sent yet, so that cannot duplicate the message.
    """

    def __init__(
        self, upstream: Upstream, *, local_hostname: str, sender: str, options: Sequence[str]
    ) -> None:
        self._upstream = upstream
        self._local_hostname = local_hostname
        self.sender = sender
        self._options = list(options)
        self._encoding = "utf-8" if "SMTPUTF8" in self._options else "ascii"
        self._client: aiosmtplib.SMTP | None = None
        self.recipients: list[str] = []

    async def add_recipient(self, recipient: str) -> Reply:
        """Open the transaction if needed, then RCPT; the upstream's answer."""
        if self._client is None:
            opened = await self._open()
            if not opened.ok:
                return opened
        assert self._client is not None
        reply = await self._command(self._client.rcpt(recipient, encoding=self._encoding))
        if reply.ok:
            self.recipients.append(recipient)
        return reply

    async def send(self, data: bytes, before_final_dot: BeforeFinalDot = _go_ahead) -> Reply:
        """DATA: the upstream's final answer for the message. ``before_final_dot`` runs
        when all but the final dot is written; if it says no, the transaction is
        abandoned (nothing is delivered) and the reply is HELD_BACK. A conversation that
        breaks after the dot is IN_DOUBT."""
        if not self.recipients:
            return Reply(554, "5.5.1 no valid recipients")
        if not await self._alive():
            reply = await self._reopen()
            if not reply.ok:
                return reply
        assert self._client is not None
        result = await send_data(self._client, data, before_final_dot, TIMEOUT)
        await self.close()
        return _data_reply(result)

    async def close(self) -> None:
        """End the connection; an open transaction is abandoned (nothing is sent)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await client.quit(timeout=5)
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    async def _open(self) -> Reply:
        upstream = self._upstream
        client = aiosmtplib.SMTP(
            hostname=upstream.host,
            port=upstream.port,
            username=upstream.username,
            password=upstream.password,
            local_hostname=self._local_hostname,
            use_tls=upstream.mode == "tls",
            start_tls=upstream.mode == "starttls",
            timeout=TIMEOUT,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            client.close()
            log.error("the upstream %r refused Inkling's login: %s", upstream, exc.message)
            return Reply(
                451, "4.7.0 the upstream mail server refused Inkling's login", reached=False
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            log.warning("cannot reach the upstream %r: %s", upstream, exc)
            return unreachable(type(exc).__name__)
        self._client = client
        reply = await self._command(client.mail(self.sender, options=self._options))
        if not reply.ok:
            await self.close()
        return reply

    async def _reopen(self) -> Reply:
        await self.close()
        recipients, self.recipients = self.recipients, []
        opened = await self._open()
        for recipient in recipients:
            if not opened.ok:
                break
            opened = await self.add_recipient(recipient)
        return opened

    async def _alive(self) -> bool:
        if self._client is None:
            return False
        try:
            await self._client.noop()
        except (aiosmtplib.SMTPException, OSError):
            return False
        return True

    async def _command(self, call: Awaitable[aiosmtplib.SMTPResponse]) -> Reply:
        """Await an aiosmtplib command and turn its outcome into a Reply."""
        try:
            response = await call
        except aiosmtplib.SMTPResponseException as exc:
            return Reply(exc.code, exc.message)
        except ValueError as exc:  # an address aiosmtplib will not put on the wire
            return Reply(553, f"5.1.3 {exc}")
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self.close()
            return unreachable(f"{type(exc).__name__} during the transaction")
        return Reply(response.code, response.message)


def _data_reply(result: DataResult) -> Reply:
    if result.held_back:
        return HELD_BACK
    if result.failure is None:
        return Reply(result.code, result.text)
    if result.after_dot:
        log.warning("the upstream's answer to a message was lost (%s)", result.failure)
        return IN_DOUBT
    return unreachable(f"{result.failure} during the transaction")
