"""Link rewriting for plain-text parts.

A URL in plain text ends where a reader would say it ends: at whitespace or an angle
bracket, and without trailing sentence punctuation (a closing parenthesis stays when the
URL opened one, as in Wikipedia links).
"""

from __future__ import annotations

import re

from inkling.instrument.links import MessageLinks

_URL = re.compile(r"""https?://[^\s<>"'\x00-\x1f]+""", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*_"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def rewrite_text(text: str, links: MessageLinks) -> str:
    """``text`` with every http(s) URL replaced by its tracker URL."""
    return _URL.sub(lambda match: _replace(match.group(0), links), text)


def _replace(found: str, links: MessageLinks) -> str:
    url = _trim(found)
    tracked = links.track(url)
    if tracked is None:
        return found
    return tracked + found[len(url) :]


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _PAIRS and url.count(_PAIRS[last]) < url.count(last)):
            url = url[:-1]
        else:
            break
    return url
