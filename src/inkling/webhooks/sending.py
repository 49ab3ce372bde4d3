"""One signed POST to one endpoint, with timeouts, and what the endpoint answered.

Any 2xx is a delivery; anything else (another status, a refused or reset connection, a
timeout) is a failure to retry. Redirects are not followed: an endpoint that moved says so
as a failure, and the operator updates the subscription. Only the first
:data:`ANSWER_BYTES` of an answer are read, so a receiver cannot make Inkling read
megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from inkling.webhooks.signing import signed_headers

ANSWER_BYTES = 2048
DEFAULT_CONNECT_SECONDS = 5.0
#: The whole exchange: a receiver should answer at once and do its work later.
DEFAULT_TIMEOUT_SECONDS = 15.0
USER_AGENT = "inkling-webhooks"


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back: a status and the start of the body, or the error instead."""

    status: int | None
    body: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        """One line for a log or ``inkling webhooks list`` (raw: escape before showing)."""
        if self.status is None:
            return _escaped(self.error or "no answer")
        first = self.body.strip().splitlines()[0][:200] if self.body.strip() else ""
        return f"HTTP {self.status}" + (f": {_escaped(first)}" if first else "")


def _escaped(text: str) -> str:
    """``text`` with every character a terminal could act on written as an escape: the
    answer came from outside and ends up in logs and on the command line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class Sender:
    """Posts signed bodies; safe to share between threads (one connection pool)."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout: float = DEFAULT_CONNECT_SECONDS,
    ) -> None:
        limits = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
        self._client = httpx.Client(
            timeout=limits, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def send(self, url: str, secret: str, event_id: str, body: str, now: float) -> Answer:
        headers = signed_headers(secret, event_id, body, now)
        try:
            with self._client.stream("POST", url, content=body.encode(), headers=headers) as got:
                return Answer(got.status_code, _start_of(got))
        except httpx.HTTPError as exc:
            return Answer(
                None, "", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            )

    def close(self) -> None:
        self._client.close()


def _start_of(response: httpx.Response) -> str:
    taken = bytearray()
    for chunk in response.iter_bytes():
        taken += chunk
        if len(taken) >= ANSWER_BYTES:
            break
    return bytes(taken[:ANSWER_BYTES]).decode("utf-8", "replace")
