"""Who is asking: the client address, honouring X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from inkling.privacy.ip import truncate_ip


class ClientAddress:
    """Works out the address to store for a request.

    Behind a reverse proxy the peer is the proxy; its ``X-Forwarded-For`` names the client.
    Only proxies listed in ``trusted_proxies`` are believed, and then the rightmost address
    that is not itself a trusted proxy is the client (the leftmost is whatever the client
    claimed). Addresses are truncated unless ``keep_full`` is set.
    """

    def __init__(self, trusted_proxies: Sequence[str] = (), *, keep_full: bool = False) -> None:
        self._networks = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)
        self._keep_full = keep_full
        #: Whether any proxy is trusted (else X-Forwarded-For is never even read).
        self.proxied = bool(self._networks)
        #: A peer's address as it may be stored (truncated, unless kept whole): a single
        #: cached C call on the tracker's hot path.
        self.stored = (lambda peer: peer) if keep_full else _stored
        self.trusts = lru_cache(maxsize=4096)(self._trusts)

    def address(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The client's address as it may be stored."""
        if forwarded_for is None and peer is not None:  # the common case, kept short
            return peer if self._keep_full else truncate_ip(peer) or "invalid"
        client = self.client(peer, forwarded_for)
        return self.for_storage(client) if client else None

    def client(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The client's whole address, for the classifier only (never stored)."""
        client = peer
        if forwarded_for and peer is not None and self.trusts(peer):
            for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
                client = hop
                if not self.trusts(hop):
                    break
        return client

    def for_storage(self, address: str) -> str:
        """``address`` (or a comma-separated list) as it may be stored."""
        if self._keep_full:
            return address
        hops = [truncate_ip(h.strip()) or "invalid" for h in address.split(",")]
        return ", ".join(hops)

    def _trusts(self, address: str) -> bool:
        if not self._networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


@lru_cache(maxsize=65536)
def _stored(address: str) -> str:
    return truncate_ip(address) or "invalid"
