"""The links of one message: which to track, their indexes, and their tracker URLs.

Each distinct target gets one index and one token, shared by the HTML and the text part,
so ``links_total`` counts what the customer can actually choose between.

A link is tracked only if the tracker can serve it: its target must be an http(s) URL a
browser's parser accepts (see :mod:`inkling.instrument.urls`), and its tracker URL must be
short enough to be requested at all. Any other link stays as written, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable

from inkling.instrument.urls import (
    PLAIN_WEB_URL,
    UntrackableURL,
    clean_url,
    decode_attribute,
    is_web_url,
    to_uri,
)
from inkling.routes import CLICK_PREFIX, HONEYPOT_PREFIX, NOTICE_PREFIX, PIXEL_PREFIX
from inkling.tokens import HONEYPOT_LINK, TokenCodec

PIXEL_PATH, CLICK_PATH, HONEYPOT_PATH = PIXEL_PREFIX, CLICK_PREFIX, HONEYPOT_PREFIX

# The longest tracker URL handed out, in bytes. nginx, the usual proxy in front of
# `inkling serve`, answers 414 when the request line ("GET /t/c/... HTTP/1.1") does not fit
# its default 8 KiB buffer (large_client_header_buffers 4 8k); uvicorn with httptools, what
# `inkling serve` runs, accepted request targets of up to 65,535 bytes here (uvicorn 0.54,
# httptools 0.9, measured 2026-12-01) and refused longer ones with 400. nginx is the
# stricter, and 8,000 bytes for the whole URL leaves room for the method, the protocol and
# the host.
MAX_TRACKER_URL = 8000
_SHOWN = 80  # characters of a link quoted in a warning
_MAX_WARNINGS = 100  # links named one by one; the rest are counted
_TOO_LONG = f"its tracker URL would be over {MAX_TRACKER_URL} bytes, more than proxies accept"


class MessageLinks:
    """Hands out tracker URLs for the links of one message."""

    def __init__(
        self,
        codec: TokenCodec,
        base_url: str,
        message: str,
        sent_at: int,
        *,
        keep: Callable[[str], str | None] | None = None,
    ) -> None:
        self._codec = codec
        #: Names the kind of a link to leave as written whatever the policy (a password
        #: reset: the first GET spends it, and a scanner would).
        self._keep = keep
        #: The kinds of the links ``keep`` left alone, one entry per distinct link.
        self.kept: list[str] = []
        self._kept_urls: set[str] = set()
        self._base = base_url.rstrip("/")
        self._tracker_prefixes = (self._base + CLICK_PATH, self._base + PIXEL_PATH)
        self._message = message
        self._sent_at = sent_at
        self._tracked: dict[str, str] = {}
        self._open_token: str | None = None
        self._refused: set[str] = set()
        self.urls: list[str] = []
        self.warnings: list[str] = []

    def track_attribute(self, raw_value: str) -> str | None:
        """The tracker URL to put in an href attribute, or None to leave it alone.

        ``raw_value`` is the attribute value as written (character references intact).
        """
        value = raw_value
        if "&" in value:
            if value.count("&") != value.count("&amp;"):
                return self.track(decode_attribute(value))
            value = value.replace("&amp;", "&")
        if PLAIN_WEB_URL.fullmatch(value) is not None:
            # Most links: nothing to clean, decode or escape (what track() would find too).
            if value.startswith(self._tracker_prefixes):
                return None
            return self._tracker_url(value)
        return self.track(value)

    def track(self, href: str) -> str | None:
        """The tracker URL for a decoded link, or None for mailto:, #, cid:, relative
        links and links that already point at this tracker."""
        url = clean_url(href)
        if not is_web_url(url) or url.startswith(self._tracker_prefixes):
            return None
        try:
            target = to_uri(url)
        except UntrackableURL as exc:
            self._refuse(url, f"a browser cannot open it ({exc})")
            return None
        if target.startswith(self._tracker_prefixes):
            return None
        return self._tracker_url(target)

    def _tracker_url(self, target: str) -> str | None:
        tracked = self._tracked.get(target)
        if tracked is None:
            if self._kept_here(target):
                return None
            if len(self.urls) >= HONEYPOT_LINK:
                return None  # a token has room for 65,535 links a message; the rest stay as is
            if len(target) > MAX_TRACKER_URL:  # the token is longer still: skip the sealing
                self._refuse(target, _TOO_LONG)
                return None
            token = self._codec.click_token(self._message, len(self.urls), self._sent_at, target)
            tracked = f"{self._base}{CLICK_PATH}{token}"
            if len(tracked) > MAX_TRACKER_URL:
                self._refuse(target, _TOO_LONG)
                return None
            self._tracked[target] = tracked
            self.urls.append(target)
        return tracked

    def _kept_here(self, target: str) -> bool:
        if target in self._kept_urls:
            return True
        kind = self._keep(target) if self._keep is not None else None
        if kind is None:
            return False
        self._kept_urls.add(target)
        self.kept.append(kind)
        return True

    def notice_url(self) -> str:
        """The customer-facing notice of this message (``/p/{token}``): what it tracks,
        and a button that turns tracking off."""
        return f"{self._base}{NOTICE_PREFIX}{self._message_token()}"

    def _refuse(self, url: str, reason: str) -> None:
        """Leave a link as written, and say so once per link (for the first hundred)."""
        if url in self._refused:
            return
        self._refused.add(url)
        if len(self._refused) > _MAX_WARNINGS:
            return
        shown = url if len(url) <= _SHOWN else url[:_SHOWN] + "..."
        # ascii(): the link came from outside, and the warning goes to a terminal
        self.warnings.append(f"link {shown!a} left untracked: {reason}")

    def report(self) -> list[str]:
        """The warnings, with a count of the links refused past the hundredth."""
        more = len(self._refused) - _MAX_WARNINGS
        if more <= 0:
            return list(self.warnings)
        return [*self.warnings, f"{more} more links left untracked"]
        return None

    def pixel_url(self) -> str:
        return f"{self._base}{PIXEL_PATH}{self._message_token()}.gif"

    def honeypot_url(self) -> str:
        """The tracker URL of the message's hidden link (see html.honeypot_tag). It needs
        no target, so it carries the message's open token, under its own path."""
        return f"{self._base}{HONEYPOT_PATH}{self._message_token()}"

    def _message_token(self) -> str:
        if self._open_token is None:
            self._open_token = self._codec.open_token(self._message, self._sent_at)
        return self._open_token
