"""What the tracker benchmark sends: which URLs, in which order, with which headers.

``realistic`` is traffic shaped like a support team's: 2,000 messages, each with one pixel
and four tracked links, so 10,000 distinct tokens (minted with the data dir's own key, as
``inkling instrument`` would; the tracker reads no database, so nothing is registered).
One cycle of the traffic is 40,000 requests: every message's pixel is opened 16 times and
each of its links clicked once, so 80% opens and 20% clicks, the hits of one message spread
over the whole cycle. Half the messages are read in a webmail in Chrome (pixel with a
cross-site Referer, clicks from the page), half in classic Outlook for Windows (its own
user agent for the pixel, clicks opened in Chrome with no Referer); the header blocks, and
where each comes from, are in ``browser_headers.toml``.

``single`` is the traffic of the benchmark's first tables: one pixel URL, wrk's bare
request (``Host`` only).

The same requests go to wrk (a Lua script written per run) and to the counted client of
``bench/counted.py``, byte for byte but for the ``Host`` line.
"""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inkling.tokens import TokenCodec

HEADERS_FILE = Path(__file__).with_name("browser_headers.toml")
MESSAGES = 2_000
LINKS = 4  # tracked links per message: with its pixel, 5 tokens a message
OPENS_PER_CLICK = 4  # 80% opens, 20% clicks
#: Help-centre articles the links point to (the length of a real target URL matters: the
#: click token carries it, encrypted).
ARTICLES = (
    "how-to-update-your-billing-details",
    "reset-your-password",
    "why-was-i-charged-twice",
    "export-your-data-as-csv",
)
_UTM = "utm_source=support&utm_medium=email&utm_campaign=ticket-reply"


@dataclass(frozen=True)
class Traffic:
    """A cycle of requests: ``order`` indexes ``paths``; path ``i`` is sent with the
    header block ``heads[head_of[i]]`` (header lines, each ending in CRLF; no ``Host``)."""

    name: str
    paths: list[str]
    heads: list[str]
    head_of: list[int]
    order: list[int]
    about: dict[str, Any] = field(default_factory=dict)

    def requests(self, host: str) -> list[bytes]:
        """The cycle as raw HTTP/1.1 requests to ``host`` (``name:port``); one bytes object
        per distinct path, shared by every place it has in the cycle."""
        raw = [
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{self.heads[head]}\r\n".encode("latin-1")
            for path, head in zip(self.paths, self.head_of, strict=True)
        ]
        return [raw[i] for i in self.order]

    def write_lua(self, path: Path) -> None:
        """A wrk script sending the cycle (each wrk thread from its own place in it)."""
        lines = ["-- Written by bench/traffic.py for one benchmark run.", "local heads = {"]
        lines += [f"  {_lua_string(head)}," for head in self.heads]
        lines += ["}", "local paths = {"]
        lines += [f"  {_lua_string(p)}," for p in self.paths]
        lines += ["}"]
        lines.append("local head_of = {" + ",".join(str(h + 1) for h in self.head_of) + "}")
        lines.append("local order = {" + ",".join(str(i + 1) for i in self.order) + "}")
        lines.append(_LUA_BODY)
        path.write_text("\n".join(lines) + "\n")

    def summary(self) -> dict[str, Any]:
        """What the traffic is, for the benchmark's JSON."""
        counts = {"distinct_urls": len(self.paths), "cycle": len(self.order)}
        return {"name": self.name} | counts | self.about


# Each thread's first request is spread over the cycle (setup runs in the main state and
# hands every thread its offset); requests are built once per thread, in init.
_LUA_BODY = """
local threads = 0
function setup(thread)
  thread:set("first", threads * 7919)
  threads = threads + 1
end
local reqs = {}
local step = 0
function init(args)
  local host = wrk.headers["Host"]
  for i = 1, #paths do
    reqs[i] = "GET " .. paths[i] .. " HTTP/1.1\\r\\nHost: " .. host .. "\\r\\n" ..
      heads[head_of[i]] .. "\\r\\n"
  end
  step = (first or 0) % #order
end
function request()
  step = step % #order + 1
  return reqs[order[step]]
end
"""


def _lua_string(text: str) -> str:
    """``text`` as a Lua string literal; only printable ASCII, CR and LF are expected."""
    escaped = []
    for char in text:
        if char in '\\"':
            escaped.append("\\" + char)
        elif char == "\r":
            escaped.append("\\r")
        elif char == "\n":
            escaped.append("\\n")
        elif " " <= char <= "~":
            escaped.append(char)
        else:
            raise ValueError(f"unexpected character {char!r} for a Lua string")
    return '"' + "".join(escaped) + '"'


def chrome_major(config: dict[str, Any], now: float) -> int:
    """The Chrome major version current at ``now``, from the release cadence."""
    anchor: dt.date = config["anchor_date"]
    start = dt.datetime(anchor.year, anchor.month, anchor.day, tzinfo=dt.UTC).timestamp()
    return int(config["anchor_version"] + (now - start) / 86400 / config["days_per_release"])


def load_profiles(now: float, path: Path = HEADERS_FILE) -> tuple[dict[str, str], int]:
    """Header blocks by profile name (CRLF-terminated lines), and the Chrome version used."""
    data = tomllib.loads(path.read_text())
    chrome = chrome_major(data["chrome"], now)
    blocks = {}
    for name, profile in data["profiles"].items():
        lines = [f"{k}: {v.replace('{chrome}', str(chrome))}\r\n" for k, v in profile["headers"]]
        blocks[name] = "".join(lines)
    return blocks, chrome


def realistic(
    codec: TokenCodec,
    *,
    messages: int = MESSAGES,
    links: int = LINKS,
    opens_per_click: int = OPENS_PER_CLICK,
    now: float | None = None,
) -> Traffic:
    """Support-mail traffic (module docstring): ``messages`` x (1 pixel + ``links``) tokens."""
    from inkling.tokens import new_message_id

    now = time.time() if now is None else now
    blocks, chrome = load_profiles(now)
    names = ["webmail_image", "webmail_click", "outlook_image", "outlook_click"]
    heads = [blocks[n] for n in names]
    paths: list[str] = []
    head_of: list[int] = []
    pixels: list[int] = []
    clicks: list[list[int]] = []
    for m in range(messages):
        message = new_message_id()
        sent_at = int(now) - 3600 - (m * 37) % 82_800  # sent between 1 and 24 hours ago
        reader = 2 * (m % 2)  # even messages read in webmail, odd ones in Outlook
        pixels.append(len(paths))
        paths.append(f"/t/o/{codec.open_token(message, sent_at)}.gif")
        head_of.append(reader)
        clicks.append([])
        for link in range(links):
            article = 360_000_000 + m * links + link
            url = (
                f"https://help.example.com/hc/en-us/articles/{article}-{ARTICLES[link % 4]}?{_UTM}"
            )
            clicks[-1].append(len(paths))
            paths.append(f"/t/c/{codec.click_token(message, link, sent_at, url)}")
            head_of.append(reader + 1)
    order: list[int] = []
    for link in range(links):  # per link: every pixel opened opens_per_click times, then one click
        for _ in range(opens_per_click):
            order.extend(pixels)
        order.extend(c[link] for c in clicks)
    about = {
        "messages": messages,
        "tokens": len(paths),
        "opens_share": round(opens_per_click / (opens_per_click + 1), 3),
        "clicks_share": round(1 / (opens_per_click + 1), 3),
        "readers": {"webmail_chrome": 0.5, "outlook_windows": 0.5},
        "chrome_version": chrome,
    }
    return Traffic("realistic", paths, heads, head_of, order, about)


def single(codec: TokenCodec, now: float | None = None) -> Traffic:
    """One pixel URL with wrk's bare request, as in the benchmark's first tables."""
    from inkling.tokens import new_message_id

    now = time.time() if now is None else now
    path = f"/t/o/{codec.open_token(new_message_id(), int(now))}.gif"
    return Traffic("single", [path], [""], [0], [0], {"messages": 1, "tokens": 1})
