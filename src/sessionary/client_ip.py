"""The client IP behind trusted proxies: the journey intake's enrichment and the failed-auth limit both
read it (from the peer address and X-Forwarded-For)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """The trusted proxies setting as networks (`10.0.0.1`, `10.0.0.0/8`, `::1`)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def client_ip(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str | None:
    """The caller's IP: the peer, or, when the peer is a trusted proxy, the nearest untrusted
    address of X-Forwarded-For (read from the right). Cached: a proxy or a visitor sends many events."""
    return _client_ip(peer, forwarded_for, trusted)


@lru_cache(maxsize=8192)
def _client_ip(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str | None:
    if peer is None:
        return None
    chain = [peer]
    if forwarded_for and _trusted(peer, trusted):
        chain = [peer, *reversed([part.strip() for part in forwarded_for.split(",") if part.strip()])]
    for address in chain:
        if not _trusted(address, trusted):
            return _canonical(address)
    return _canonical(chain[-1])


def _canonical(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
