"""Fetching the published IP ranges from the operators themselves.

``inkling ranges update --fetch`` downloads each publication listed in
``data/sources.toml`` (Apple's Private Relay egress CSV, Google's and AWS's JSON,
Microsoft's endpoints web service and, when an operator names this week's file, Azure's
service tags), reads it in its operator's own format, checks it, merges overlapping
networks and installs the result with :func:`ranges.install`.

Every source is downloaded, read and checked before anything is replaced: one bad source
fails the whole update with one line naming the source and what is wrong, and the
installed ranges stay as they were. Only the standard library is used (no new runtime
dependency).
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import IO
from urllib.parse import SplitResult, urlsplit, urlunsplit

from inkling import __version__
from inkling.classify import ranges
from inkling.classify.ranges import Span
from inkling.errors import RangesError

__all__ = [
    "MAX_BYTES",
    "TIMEOUT",
    "Source",
    "download",
    "fetch_and_update",
    "load_sources",
    "mirrored",
    "parse_overrides",
    "with_urls",
]

#: Seconds allowed for each source: no single wait on the network may take longer, and the
#: body is abandoned once this much time has passed since the request (so a server that
#: trickles bytes holds a source for at most about twice this).
TIMEOUT = 60.0
#: Largest body accepted from a source. The largest publication (Apple's egress CSV) runs
#: to megabytes; a body of more than this is not a range list, and would only fill memory.
MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024
_USER_AGENT = f"inkling/{__version__} (ranges update)"


@dataclass(frozen=True, slots=True)
class Source:
    """One operator's publication: where it is, how it is written, what it must hold.

    ``file`` is the stem of the range files it feeds (``apple-proxy``); ``minimum`` the
    fewest ranges per family (``ipv4``, ``ipv6``) after merging; an empty ``url`` means the
    operator must name one (Azure's weekly file)."""

    name: str
    file: str
    format: str
    url: str
    minimum: Mapping[str, int]
    documentation: str


def fetch_and_update(
    data_dir: Path,
    *,
    sources: Sequence[Source] | None = None,
    overrides: Mapping[str, str] | None = None,
    snapshot: str | None = None,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Download every source, check it, and install the merged ranges in
    ``data_dir/ranges``; returns the number of ranges per file written.

    ``sources`` defaults to ``data/sources.toml``; ``overrides`` maps a source's name to
    another URL (``{"azure": "https://.../ServiceTags_Public_20261130.json"}``);
    ``snapshot`` is the date recorded (default: today in UTC); ``progress`` gets one
    printable line per source. Raises :class:`RangesError` with one line if anything is
    wrong, before anything is replaced.
    """
    stamp = ranges.snapshot_date(snapshot)
    chosen = with_urls(load_sources() if sources is None else sources, overrides or {})
    _check_coverage(chosen)
    found: dict[str, list[Span]] = {stem: [] for stem in ranges.NETWORKS.values()}
    fetched = []
    for source in chosen:
        if not source.url:
            _tell(
                progress,
                f"{source.name}: skipped (no URL; name one with --source {source.name}=URL)",
            )
            continue
        url = source.url.replace("{uuid}", str(uuid.uuid4()))
        spans, counts, size = _fetch(source, url, timeout=timeout, max_bytes=max_bytes)
        found[source.file].extend(spans)
        fetched.append(f"{source.name} {url}")
        _tell(
            progress,
            f"{source.name}: {counts[0]} IPv4 and {counts[1]} IPv6 ranges "
            f"from {url} ({size:,} bytes)",
        )
    texts, totals = _files(found, stamp)
    origin = "\n".join(["fetched from the operators' publications", *fetched])
    ranges.install(data_dir, texts, snapshot=stamp, origin=origin)
    return totals


def load_sources(text: str | None = None) -> list[Source]:
    """The sources in TOML ``text``, or the ones shipped (``data/sources.toml``)."""
    if text is None:
        data = resources.files(__package__).joinpath("data", "sources.toml")
        text = data.read_text("utf-8")
    try:
        entries = tomllib.loads(text).get("source", [])
    except tomllib.TOMLDecodeError as exc:
        raise RangesError(f"sources.toml is not TOML: {exc}") from exc
    sources = [_source(entry, number) for number, entry in enumerate(entries, 1)]
    seen: set[str] = set()
    for source in sources:
        if source.name in seen:
            raise RangesError(f"sources.toml has two sources named {source.name!r}")
        seen.add(source.name)
    return sources


def parse_overrides(values: Iterable[str]) -> dict[str, str]:
    """``["azure=https://..."]`` (what ``--source NAME=URL`` collects) as a mapping."""
    overrides = {}
    for value in values:
        name, equals, url = value.partition("=")
        if not equals or not name.strip() or not url.strip():
            raise RangesError(f"--source {_quoted(value)} is not NAME=URL")
        overrides[name.strip()] = url.strip()
    return overrides


def with_urls(sources: Sequence[Source], overrides: Mapping[str, str]) -> list[Source]:
    """``sources`` with the URLs in ``overrides`` (source name -> URL) put in."""
    known = {s.name for s in sources}
    for name in overrides:
        if name not in known:
            raise RangesError(
                f"there is no source named {_quoted(name)} (the sources are "
                f"{', '.join(s.name for s in sources)})"
            )
    chosen = [replace(s, url=overrides.get(s.name, s.url)) for s in sources]
    for source in chosen:
        if source.url:
            _check_url(source.url, f"the URL of {source.name}")
    return chosen


def mirrored(sources: Sequence[Source], base: str) -> list[Source]:
    """``sources`` fetched from ``base`` (its scheme and host) with their own paths and
    queries: for a mirror that copies the operators' files, and for tests."""
    mirror = urlsplit(_check_url(base, "the mirror URL"))
    return [
        replace(
            s, url=urlunsplit(urlsplit(s.url)._replace(scheme=mirror.scheme, netloc=mirror.netloc))
        )
        if s.url
        else s
        for s in sources
    ]


def download(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> bytes:
    """The body at ``url`` (http or https), read within ``timeout`` seconds and at most
    ``max_bytes`` long, following redirects only within its host.

    Raises :class:`RangesError` saying what went wrong, in words (never a traceback)."""
    _check_url(url, "the URL")
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http(s) checked above)
    opener = urllib.request.build_opener(_SameHostRedirects())
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            return _body(response, deadline=deadline, timeout=timeout, max_bytes=max_bytes)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise RangesError(f"answered HTTP {exc.code} {_quoted(str(exc.reason))}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise RangesError(f"timed out after {timeout:g} s") from exc
        raise RangesError(f"could not be reached ({_reason(exc.reason)})") from exc
    except TimeoutError as exc:
        raise RangesError(f"timed out after {timeout:g} s") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise RangesError(f"the connection broke off ({_reason(exc)})") from exc
    except ValueError as exc:  # http.client.InvalidURL, a host name IDNA cannot encode
        raise RangesError(f"could not be asked for ({_reason(exc)})") from exc


def _fetch(
    source: Source, url: str, *, timeout: float, max_bytes: int
) -> tuple[list[Span], list[int], int]:
    """The ranges of ``source`` (downloaded from ``url``), how many there are of each family
    once merged, and the size of the body."""
    try:
        body = download(url, timeout=timeout, max_bytes=max_bytes)
        spans = READERS[source.format](_text(body))
        return spans, _counted(spans, source.minimum), len(body)
    except RangesError as exc:
        raise RangesError(
            f"ranges source {source.name} ({url}): {exc}; the installed ranges are unchanged"
        ) from exc


def _counted(spans: list[Span], minimum: Mapping[str, int]) -> list[int]:
    """The number of IPv4 and IPv6 ranges in ``spans`` once merged, if each family holds
    at least its ``minimum``."""
    counts = []
    for version in (4, 6):
        count = len(ranges.blocks(spans, version))
        least = minimum[f"ipv{version}"]
        if not count:
            raise RangesError(f"it holds no IPv{version} ranges, and the publication has both")
        if count < least:
            raise RangesError(
                f"it holds only {count} IPv{version} ranges after merging (at least "
                f"{least} expected): truncated, or not the publication"
            )
        counts.append(count)
    return counts


def _files(found: Mapping[str, list[Span]], stamp: str) -> tuple[dict[str, str], dict[str, int]]:
    """The text of each range file (merged across its sources) and its number of ranges."""
    texts, counts = {}, {}
    for stem, spans in found.items():
        for version, family in ((4, "ipv4"), (6, "ipv6")):
            name = f"{stem}-{family}.txt"
            lines = ranges.cidrs(spans, version)
            texts[name] = "\n".join([f"# {name}, fetched {stamp}", *lines]) + "\n"
            counts[name] = len(lines)
    return texts, counts


def _check_coverage(sources: Sequence[Source]) -> None:
    """Every range file must be fed by at least one source with a URL."""
    fed = {s.file for s in sources if s.url}
    for stem in ranges.NETWORKS.values():
        if stem not in fed:
            raise RangesError(f"no source with a URL feeds {stem}-ipv4.txt and -ipv6.txt")


def _tell(progress: Callable[[str], None] | None, line: str) -> None:
    if progress is not None:
        progress(line)


# --- Downloading ---------------------------------------------------------------------------


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only within the host asked, and never from https to http: a
    list of ranges served from another host is not the operator's publication."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        downgrade = old.scheme == "https" and new.scheme != "https"
        if _host(new) != _host(old) or downgrade:
            fp.close()
            raise RangesError(
                f"redirected to {_quoted(newurl)}; only redirects within "
                f"{old.scheme}://{old.netloc} are followed"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _body(
    response: http.client.HTTPResponse, *, deadline: float, timeout: float, max_bytes: int
) -> bytes:
    """The whole body of ``response``, refused past ``max_bytes`` or ``deadline``.

    Read a chunk at a time (``read1``), so a server that trickles bytes cannot keep the
    read going much past the deadline."""
    declared = response.headers.get("Content-Length", "").strip()
    length = int(declared) if declared.isascii() and declared.isdigit() else None
    if length is not None and length > max_bytes:
        raise RangesError(f"the body is {length:,} bytes, more than the {max_bytes:,} allowed")
    chunks, size = [], 0
    while chunk := response.read1(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise RangesError(f"the body is more than the {max_bytes:,} bytes allowed")
        if time.monotonic() > deadline:
            raise RangesError(f"timed out after {timeout:g} s")
        chunks.append(chunk)
    # http.client returns a short body without complaint when the connection closes early;
    # a CIDR cut in half ("17.0.0.0/2") would still parse.
    if length is not None and size != length:
        raise RangesError(f"the body ended after {size:,} of its {length:,} bytes")
    return b"".join(chunks)


def _host(parts: SplitResult) -> tuple[str | None, int | None] | None:
    """``(host, port)`` of a URL, or None if its port is not a port."""
    try:
        return parts.hostname, parts.port
    except ValueError:
        return None


def _check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RangesError(f"{what} must be an http or https URL, not {_quoted(url)}")
    if not url.isprintable() or " " in url:
        raise RangesError(f"{what} holds spaces or control characters: {_quoted(url)}")
    if _host(parts) is None:
        raise RangesError(f"{what} has a port that is not a port: {_quoted(url)}")
    return url


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RangesError(
            f"the body is not UTF-8 text (byte 0x{body[exc.start]:02x} at offset {exc.start})"
        ) from exc


# --- Reading each operator's format --------------------------------------------------------


def read_apple_csv(text: str) -> list[Span]:
    """Apple's ``egress-ip-ranges.csv``: an RFC 8805 geofeed, one range a line as
    ``prefix,country,region,city,postal``; only the prefix matters here."""
    spans = []
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in rows:
            first = row[0].strip() if row else ""
            if first and not first.startswith("#"):  # RFC 8805 §2.1.1: '#' starts a comment
                spans.append(_span(row[0], f"line {rows.line_num}"))
    except csv.Error as exc:
        raise RangesError(f"line {rows.line_num} is not CSV ({exc})") from exc
    return spans


def read_google_json(text: str) -> list[Span]:
    """Google's ``goog.json``, ``cloud.json`` and ``googlebot.json``:
    ``{"prefixes": [{"ipv4Prefix": ...} | {"ipv6Prefix": ...}, ...]}``."""
    spans = []
    prefixes = _list(_member(_json(text), "prefixes", "the document"), "prefixes")
    for index, entry in enumerate(prefixes):
        where = f"prefixes[{index}]"
        keys = [k for k in ("ipv4Prefix", "ipv6Prefix") if k in _object(entry, where)]
        if not keys:
            raise RangesError(f"{where} has neither ipv4Prefix nor ipv6Prefix")
        for key in keys:
            version = 4 if key == "ipv4Prefix" else 6
            spans.append(_span(_member(entry, key, where), f"{where}.{key}", version))
    return spans


def read_aws_json(text: str) -> list[Span]:
    """AWS's ``ip-ranges.json``: ``prefixes[].ip_prefix`` and
    ``ipv6_prefixes[].ipv6_prefix`` (a range is listed once per service that uses it)."""
    document = _json(text)
    spans = []
    for key, field, version in (("prefixes", "ip_prefix", 4), ("ipv6_prefixes", "ipv6_prefix", 6)):
        for index, entry in enumerate(_list(_member(document, key, "the document"), key)):
            where = f"{key}[{index}]"
            spans.append(_span(_member(entry, field, where), f"{where}.{field}", version))
    return spans


def read_microsoft_endpoints(text: str) -> list[Span]:
    """Microsoft 365's endpoints web service: a list of endpoint sets, each with an
    optional ``ips`` list mixing IPv4 and IPv6 ranges (sets of URLs only have none)."""
    document = _json(text)
    if not isinstance(document, list):
        said = document.get("error") if isinstance(document, dict) else None
        detail = f" (it says {_quoted(str(said))})" if said is not None else ""
        raise RangesError(f"the document is not a list of endpoint sets{detail}")
    spans = []
    for index, entry in enumerate(document):
        where = f"[{index}]"
        ips = _object(entry, where).get("ips", [])
        for number, value in enumerate(_list(ips, f"{where}.ips")):
            spans.append(_span(value, f"{where}.ips[{number}]"))
    return spans


def read_azure_service_tags(text: str) -> list[Span]:
    """Azure's ``ServiceTags_Public_*.json``:
    ``{"values": [{"name": ..., "properties": {"addressPrefixes": [...]}}, ...]}``."""
    spans = []
    values = _list(_member(_json(text), "values", "the document"), "values")
    for index, entry in enumerate(values):
        where = f"values[{index}].properties"
        properties = _member(entry, "properties", f"values[{index}]")
        prefixes = _list(_member(properties, "addressPrefixes", where), f"{where}.addressPrefixes")
        for number, value in enumerate(prefixes):
            spans.append(_span(value, f"{where}.addressPrefixes[{number}]"))
    return spans


#: Format name (``format`` in sources.toml) -> its reader.
READERS: dict[str, Callable[[str], list[Span]]] = {
    "apple-egress-csv": read_apple_csv,
    "google-json": read_google_json,
    "aws-json": read_aws_json,
    "microsoft-endpoints": read_microsoft_endpoints,
    "azure-service-tags": read_azure_service_tags,
}


def _json(text: str) -> object:
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RangesError(
            f"the body is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise RangesError("the body is not a range list (JSON nested too deep)") from exc
    return document


def _object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise RangesError(f"{where} is not a JSON object")
    return value


def _member(value: object, key: str, where: str) -> object:
    container = _object(value, where)
    if key not in container:
        raise RangesError(f"{where} has no {key!r}")
    return container[key]


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise RangesError(f"{where} is not a list")
    return value


def _span(value: object, where: str, version: int | None = None) -> Span:
    """``value`` read as a CIDR range (host bits allowed, as in the range files)."""
    if not isinstance(value, str):
        raise RangesError(f"{where} is not a string but {type(value).__name__}")
    try:
        span = ranges.span(value)
    except ValueError as exc:
        raise RangesError(f"{where}: {_quoted(value)} is not a CIDR range") from exc
    if version is not None and span[0] != version:
        raise RangesError(f"{where}: {_quoted(value.strip())} is not an IPv{version} range")
    return span


# --- Sources and what they say -------------------------------------------------------------


def _source(entry: object, number: int) -> Source:
    where = f"sources.toml, source {number}"
    fields = _object(entry, where)
    text = {}
    for key in ("name", "file", "format", "url", "documentation"):
        value = fields.get(key)
        if not isinstance(value, str):
            raise RangesError(f"{where} needs {key} as a string")
        text[key] = value
    if text["file"] not in ranges.NETWORKS.values():
        raise RangesError(f"{where}: file {text['file']!r} is not one of the range files")
    if text["format"] not in READERS:
        raise RangesError(f"{where}: format {text['format']!r} is not one of {', '.join(READERS)}")
    minimum = fields.get("minimum")
    if not (
        isinstance(minimum, dict) and all(isinstance(minimum.get(f), int) for f in ranges.FAMILIES)
    ):
        raise RangesError(f"{where} needs minimum = {{ ipv4 = N, ipv6 = N }}")
    return Source(minimum={f: minimum[f] for f in ranges.FAMILIES}, **text)


def _quoted(value: str, limit: int = 80) -> str:
    """``value`` quoted for one line on a terminal: control characters escaped (``repr``),
    cut to ``limit`` characters. Whatever a server sent passes through here."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _reason(reason: object) -> str:
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return _quoted(str(text))[1:-1]
