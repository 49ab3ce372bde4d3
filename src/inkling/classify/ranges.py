"""Published IP ranges: which operator's network an address belongs to.

Operators publish the ranges their services fetch from (Apple's Private Relay egress,
Google, Microsoft, Amazon). Inkling ships a dated snapshot (``data/ranges``) and an
operator can install a newer one with ``inkling ranges update DIR``; the copy in the data
directory then wins. Every verdict names the snapshot it was made with.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from inkling.errors import RangesError

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
    Returns the number of ranges per file.
    """
    counts = {}
    for stem in NETWORKS.values():
        for family in FAMILIES:
            path = source / f"{stem}-{family}.txt"
            if not path.is_file():
                raise RangesError(f"{path} is missing (expected {stem}-ipv4.txt and -ipv6.txt)")
            counts[path.name] = len(_networks_in(path))
    target = data_dir / "ranges"
    staging = data_dir / "ranges.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in counts:
        shutil.copyfile(source / name, staging / name)
    stamp = snapshot or datetime.now(UTC).date().isoformat()
    (staging / SNAPSHOT_FILE).write_text(f"{stamp} {source.resolve()}\n", "utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return counts


def _read_tables(directory: Path | Traversable) -> dict[tuple[str, int], _Table]:
    tables = {}
    for name, stem in NETWORKS.items():
        for version, family in ((4, "ipv4"), (6, "ipv6")):
            path = directory / f"{stem}-{family}.txt"
            if path.is_file():
                tables[(name, version)] = _table(_networks_in(path))
    return tables


def _networks_in(path: Path | Traversable) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise RangesError(f"{path}, line {number}: {text!r} is not a CIDR range") from exc
    return networks


def _table(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> _Table:
    return _spans_table([(int(n.network_address), int(n.broadcast_address)) for n in networks])


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
