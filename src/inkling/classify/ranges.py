"""Published IP ranges: which operator's network an address belongs to.

Operators publish the ranges their services fetch from (Apple's Private Relay egress,
Google, Microsoft, Amazon). Inkling ships a dated snapshot (``data/ranges``) and an
operator can install a newer one with ``inkling ranges update DIR`` (or fetch one from the
operators, see ``fetch.py``); the copy in the data directory then wins. Every verdict
names the snapshot it was made with.
"""

from __future__ import annotations

import re
import shutil
import socket
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from inkling.errors import RangesError

#: A range as (4 or 6, its first address, its last address), the addresses as integers.
Span = tuple[int, int, int]

#: Network name -> file stem, in the order they are asked (the narrower range first).
NETWORKS = {
    "googlebot": "googlebot",
    "apple_relay": "apple-proxy",
    "google": "google",
    "microsoft": "microsoft",
    "amazon": "amazon",
}
FAMILIES = ("ipv4", "ipv6")
SNAPSHOT_FILE = "SNAPSHOT"
PACKAGE_SNAPSHOT = "2026-08-22"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class _Table:
    """The merged ranges of one network in one address family, as sorted integers."""

    starts: list[int]
    ends: list[int]

    def __contains__(self, address: int) -> bool:
        at = bisect_right(self.starts, address) - 1
        return at >= 0 and address <= self.ends[at]


class Networks:
    """Answers which published network, if any, an address is in."""

    def __init__(self, tables: dict[tuple[str, int], _Table], snapshot: str) -> None:
        self._tables = tables
        # Most addresses are in no published range: one look in the union settles them.
        self._any = {
            version: _merged([t for (_, v), t in tables.items() if v == version])
            for version in (4, 6)
        }
        self.snapshot = snapshot
        self.locate = lru_cache(maxsize=65536)(self._locate)

    @classmethod
    def load(cls, directory: Path | None = None) -> Networks:
        """The ranges in ``directory`` if it holds them, else the snapshot shipped."""
        if directory is not None and (directory / SNAPSHOT_FILE).is_file():
            snapshot = (directory / SNAPSHOT_FILE).read_text("utf-8").split()[0]
            return cls(_read_tables(directory), snapshot)
        packaged = resources.files(__package__).joinpath("data", "ranges")
        return cls(_read_tables(packaged), PACKAGE_SNAPSHOT)

    def _locate(self, ip: str) -> tuple[str | None, str | None]:
        """``(published network or None, source)`` for ``ip``: the source is the network's
        name, or else the address's /16 (IPv4) or /32 (IPv6), or None if ``ip`` is not an
        address. Hits of one scanner share a source; a person's and a data centre's do not."""
        address = parse_address(ip)
        if address is None:
            return None, None
        network = self._network_in(*address)
        if network is not None:
            return network, network
        version, value = address
        return None, (f"v4 {value >> 16:x}" if version == 4 else f"v6 {value >> 96:x}")

    def _network_in(self, version: int, value: int) -> str | None:
        if value not in self._any[version]:
            return None
        for name in NETWORKS:
            table = self._tables.get((name, version))
            if table is not None and value in table:
                return name
        return None


def parse_address(ip: str) -> tuple[int, int] | None:
    """``(4 or 6, the address as an integer)`` for ``ip``, IPv4-mapped IPv6 addresses
    unwrapped; None if ``ip`` is not an address."""
    try:
        if ":" not in ip:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, ip.strip()))
        value = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip.strip()))
    except (OSError, ValueError):
        return None
    if value >> 32 == 0xFFFF:
        return 4, value & 0xFFFFFFFF
    return 6, value


def update(source: Path, data_dir: Path, *, snapshot: str | None = None) -> dict[str, int]:
    """Check the range files in ``source`` and install them in ``data_dir/ranges``.

    Every file must parse before anything is replaced, so a bad download changes nothing.
    ``snapshot`` is the date the ranges were taken (default: today in UTC). Returns the
    number of ranges per file.
    """
    stamp = snapshot_date(snapshot)
    texts = {}
    counts = {}
    for name in range_files():
        path = source / name
        if not path.is_file():
            stem = name.rsplit("-", 1)[0]
            raise RangesError(f"{path} is missing (expected {stem}-ipv4.txt and -ipv6.txt)")
        try:
            texts[name] = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RangesError(f"{path} cannot be read as UTF-8 text: {exc}") from exc
        counts[name] = len(_parse(texts[name], path))
    install(data_dir, texts, snapshot=stamp, origin=str(source.resolve()))
    return counts


def range_files() -> list[str]:
    """The file names a full set of ranges has, ``apple-proxy-ipv4.txt`` and so on."""
    return [f"{stem}-{family}.txt" for stem in NETWORKS.values() for family in FAMILIES]


def snapshot_date(text: str | None, *, today: date | None = None) -> str:
    """``text`` checked as the date a snapshot was taken (``YYYY-MM-DD``, a real calendar
    date, not after ``today``), or today's date in UTC when ``text`` is None.

    Verdicts quote this date, so a typo here would mislabel every reason that used a range.
    """
    today = today or datetime.now(UTC).date()
    if text is None:
        return today.isoformat()
    # date.fromisoformat alone would also take "20261101" and "2026-W44-7".
    if not _DATE.fullmatch(text):
        raise RangesError(f"snapshot {text!r} is not a date (YYYY-MM-DD, e.g. 2026-11-01)")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise RangesError(f"snapshot {text!r} is not a calendar date ({exc})") from exc
    if day > today:
        raise RangesError(f"snapshot {text} is in the future (today is {today} in UTC)")
    return text


def install(data_dir: Path, files: Mapping[str, str], *, snapshot: str, origin: str) -> None:
    """Write ``files`` (name -> text, already checked) as ``data_dir/ranges``, with a
    SNAPSHOT file whose first word is ``snapshot`` and whose rest says where they came from.

    The new set is written beside the old one and swapped in by two renames, so a failure
    while writing leaves the installed ranges as they were (a crash between the renames
    leaves them in ``ranges.old``).
    """
    target = data_dir / "ranges"
    staging = data_dir / "ranges.new"
    retired = data_dir / "ranges.old"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, text in files.items():
        (staging / name).write_text(text, "utf-8")
    (staging / SNAPSHOT_FILE).write_text(f"{snapshot} {origin}\n", "utf-8")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def span(text: str) -> Span:
    """``text``, a CIDR range (``17.0.0.0/8``; host bits are allowed, as operators' lists
    sometimes have them; without a length it is one address), as a :data:`Span`. Raises
    ValueError if it is not one.

    Read with ``inet_pton`` rather than ``ipaddress``: 2 µs a line instead of 14, which
    counts for Apple's list of a few hundred thousand lines."""
    address, slash, length = text.strip().partition("/")
    version, family, bits = (6, socket.AF_INET6, 128) if ":" in address else (4, socket.AF_INET, 32)
    try:
        value = int.from_bytes(socket.inet_pton(family, address))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{address!r} is not an IPv{version} address") from exc
    if not slash:
        prefix = bits
    elif length.isascii() and length.isdigit() and len(length) <= 3 and int(length) <= bits:
        prefix = int(length)
    else:
        raise ValueError(f"{length!r} is not a prefix length for IPv{version}")
    host = (1 << (bits - prefix)) - 1
    return version, value & ~host, value | host


def blocks(spans: Iterable[Span], version: int) -> list[tuple[int, int]]:
    """The IPv``version`` spans among ``spans`` merged (overlapping and adjacent ones
    joined) as the fewest CIDR blocks, ``(first address, prefix length)``, sorted."""
    bits = 32 if version == 4 else 128
    table = _spans_table([(first, last) for v, first, last in spans if v == version])
    found = []
    for first, last in zip(table.starts, table.ends, strict=True):
        while first <= last:
            # the largest block aligned at `first` that ends at or before `last`
            aligned = (first & -first).bit_length() - 1 if first else bits
            size = min(aligned, (last - first + 1).bit_length() - 1)
            found.append((first, bits - size))
            first += 1 << size
    return found


def cidrs(spans: Iterable[Span], version: int) -> list[str]:
    """:func:`blocks` written as CIDR ranges, one string each (``17.0.0.0/8``)."""
    family, width = (socket.AF_INET, 4) if version == 4 else (socket.AF_INET6, 16)
    return [
        f"{socket.inet_ntop(family, first.to_bytes(width))}/{prefix}"
        for first, prefix in blocks(spans, version)
    ]


def _read_tables(directory: Path | Traversable) -> dict[tuple[str, int], _Table]:
    tables = {}
    for name, stem in NETWORKS.items():
        for version, family in ((4, "ipv4"), (6, "ipv6")):
            path = directory / f"{stem}-{family}.txt"
            if path.is_file():
                tables[(name, version)] = _table(_spans_in(path))
    return tables


def _spans_in(path: Path | Traversable) -> list[Span]:
    return _parse(path.read_text("utf-8"), path)


def _parse(text: str, path: Path | Traversable) -> list[Span]:
    """The ranges in a range file's ``text`` (``path`` names it in errors)."""
    spans = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            spans.append(span(entry))
        except ValueError as exc:
            raise RangesError(f"{path}, line {number}: {entry!r} is not a CIDR range") from exc
    return spans


def _table(spans: list[Span]) -> _Table:
    return _spans_table([(first, last) for _, first, last in spans])


def _merged(tables: list[_Table]) -> _Table:
    return _spans_table([span for t in tables for span in zip(t.starts, t.ends, strict=True)])


def _spans_table(spans: list[tuple[int, int]]) -> _Table:
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if ends and start <= ends[-1] + 1:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return _Table(starts, ends)
