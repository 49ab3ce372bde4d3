"""The links of one message: which to track, their indexes, and their tracker URLs.

Each distinct target gets one index and one token, shared by the HTML and the text part,
so ``links_total`` counts what the customer can actually choose between.
"""

from __future__ import annotations

import re

from inkling.instrument.urls import clean_url, decode_attribute, is_web_url, to_uri
from inkling.tokens import HONEYPOT_LINK, TokenCodec
from inkling.tracker.app import CLICK_PREFIX, HONEYPOT_PREFIX, PIXEL_PREFIX

# An http(s) URL of printable ASCII that no component would escape: no space, ", ', <,
# >, `, {, } or backslash (see urls.to_uri).
_PLAIN_WEB_URL = re.compile(r"[hH][tT][tT][pP][sS]?:[!#-&(-;=?-\[\]-_a-z|~]*")

PIXEL_PATH, CLICK_PATH, HONEYPOT_PATH = PIXEL_PREFIX, CLICK_PREFIX, HONEYPOT_PREFIX


class MessageLinks:
    """Hands out tracker URLs for the links of one message."""

    def __init__(self, codec: TokenCodec, base_url: str, message: str, sent_at: int) -> None:
        self._codec = codec
        self._base = base_url.rstrip("/")
        self._tracker_prefixes = (self._base + CLICK_PATH, self._base + PIXEL_PATH)
        self._message = message
        self._sent_at = sent_at
        self._tracked: dict[str, str] = {}
        self._open_token: str | None = None
        self.urls: list[str] = []

    def track_attribute(self, raw_value: str) -> str | None:
        """The tracker URL to put in an href attribute, or None to leave it alone.

        ``raw_value`` is the attribute value as written (character references intact).
        """
        value = raw_value
        if "&" in value:
            if value.count("&") != value.count("&amp;"):
                return self.track(decode_attribute(value))
            value = value.replace("&amp;", "&")
        if _PLAIN_WEB_URL.fullmatch(value) is not None:
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
        return self._tracker_url(to_uri(url))

    def _tracker_url(self, target: str) -> str | None:
        tracked = self._tracked.get(target)
        if tracked is None:
            if len(self.urls) >= HONEYPOT_LINK:
                return None  # a token has room for 65,535 links a message; the rest stay as is
            token = self._codec.click_token(self._message, len(self.urls), self._sent_at, target)
            tracked = f"{self._base}{CLICK_PATH}{token}"
            self._tracked[target] = tracked
            self.urls.append(target)
        return tracked

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
