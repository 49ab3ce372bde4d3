"""Stored addresses keep their /24 (IPv4) or /48 (IPv6): a provider's range, not a home."""

from __future__ import annotations

import pytest

from inkling.privacy.ip import truncate_ip


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("82.132.215.9", "82.132.215.0"),
        ("255.255.255.255", "255.255.255.0"),
        ("2003:feb:e9e5:7b64:62f7:ef00:a9ab:80b1", "2003:feb:e9e5::"),
        ("::ffff:17.58.101.7", "17.58.101.0"),  # an IPv4 address written as IPv6
        ("fe80::1%eth0", "fe80::"),
        ("not an address", None),
        ("1.2.3.256", None),
    ],
)
def test_only_the_network_part_is_kept(given: str, stored: str | None) -> None:
    assert truncate_ip(given) == stored
