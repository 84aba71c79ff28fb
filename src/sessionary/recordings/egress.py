"""Where the recording fetcher may connect (SSRF): recording URLs, the hosts allowed, public addresses.

A recording URL comes from a voice platform's webhook, so it is untrusted: it could name the server's own
network (a database, a cloud metadata service at 169.254.169.254). Every URL the fetcher follows, the first
and each redirect, passes three checks before a connection is made:

* `parse_url`: an absolute http(s) URL with a host, parsed by ada-url (the WHATWG URL standard, as browsers
  parse: `http://2130706433/` is 127.0.0.1, `bücher` is punycode), at most URL_MAX_CHARS, without control
  characters or credentials;
* `HostRules.check`: the host is one the provider keeps recordings on (integrations.providers.
  RECORDING_HOSTS, https only) or one the operator added (SESSIONARY_RECORDING_FETCH_HOSTS, http allowed);
* `addresses`: the host resolves only to public addresses (`is_public`), unless private ones are allowed
  (SESSIONARY_RECORDING_FETCH_ALLOW_PRIVATE). The fetcher then connects to these very addresses, never
  resolving the name again (a second lookup could answer differently: DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

import ada_url

from sessionary.integrations.providers import RECORDING_HOSTS

URL_MAX_CHARS = 2048
IPAddress = IPv4Address | IPv6Address
# (host, port) -> the addresses it resolves to, in the resolver's order.
Resolver = Callable[[str, int], Sequence[IPAddress]]

_SCHEMES = {"http:": "http", "https:": "https"}
_HOST_IPV4, _HOST_IPV6 = 1, 2  # ada_url.URL.host_type
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses translated by a NAT64 gateway (RFC 6052)
# IANA's special-purpose ranges that are not globally reachable, listed here too so that the answer does not
# depend on the Python release's own tables (they changed in 3.12.4 and 3.13): the shared address space
# (CGNAT, RFC 6598), IETF protocol assignments, documentation and benchmarking ranges, NAT64 local use,
# discard-only, SRv6 SIDs.
_SPECIAL = tuple(
    ipaddress.ip_network(network)
    for network in (
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
    )
)


class BadURL(ValueError):
    """Not a URL the fetcher takes (the message says why, without the URL)."""


class Refused(Exception):
    """A host or address the fetcher may not connect to (the message names it)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to and what to send."""

    url: str  # normalized, without the fragment
    scheme: str  # http | https
    host: str  # lowercase ASCII name, or an IP literal (IPv6 without brackets)
    port: int
    host_header: str  # the Host header: the host, and the port unless it is the scheme's default
    target: str  # path and query, percent-encoded as sent
    literal: IPAddress | None  # the host, when it is an IP address

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def parse_url(raw: str, base: str | None = None) -> Target:
    """`raw` (relative to `base`, for a redirect's Location) as a Target; BadURL saying what is wrong."""
    if len(raw) > URL_MAX_CHARS:
        raise BadURL(f"must be at most {URL_MAX_CHARS} characters")
    if any(ord(c) < 0x21 or 0x7F <= ord(c) <= 0x9F for c in raw):  # the WHATWG parser would drop some
        raise BadURL("must not contain spaces or control characters")
    try:
        url = ada_url.URL(raw) if base is None else ada_url.URL(raw, base=base)
    except ValueError:
        raise BadURL("is not a valid URL") from None
    scheme = _SCHEMES.get(url.protocol)
    spelled = base is not None or raw.lower().startswith(f"{scheme}://")  # not the lenient `http:host`
    if scheme is None or not url.hostname or not spelled:
        raise BadURL("must be an absolute http or https URL with a host")
    if url.username or url.password:
        raise BadURL("must not carry credentials (user:password@)")
    url.hash = ""
    if len(url.href) > URL_MAX_CHARS:
        raise BadURL(f"must be at most {URL_MAX_CHARS} characters")
    literal = _literal(url)
    host = str(literal) if isinstance(literal, IPv6Address) else url.hostname
    port = int(url.port) if url.port else (443 if scheme == "https" else 80)
    return Target(url.href, scheme, host, port, url.host, (url.pathname or "/") + url.search, literal)


def _literal(url: ada_url.URL) -> IPAddress | None:
    if url.host_type == _HOST_IPV4:
        return IPv4Address(url.hostname)
    if url.host_type == _HOST_IPV6:
        return IPv6Address(url.hostname.strip("[]"))
    return None


def host_matches(host: str, pattern: str) -> bool:
    """Whether `host` is `pattern`, or (for `*.example.com`) any subdomain of example.com."""
    pattern = pattern.lower().strip("[]")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern or _same_ip(host, pattern)


def _same_ip(host: str, pattern: str) -> bool:
    try:
        return ipaddress.ip_address(host) == ipaddress.ip_address(pattern)
    except ValueError:
        return False


@dataclass(frozen=True)
class HostRules:
    """The hosts a recording URL may name: the provider's own (https only) and the operator's (any)."""

    extra: tuple[str, ...] = ()

    def check(self, provider: str, target: Target) -> None:
        """Refused unless `target` names a host allowed for `provider` over its scheme."""
        if any(host_matches(target.host, pattern) for pattern in self.extra):
            return
        if any(host_matches(target.host, pattern) for pattern in RECORDING_HOSTS.get(provider, ())):
            if target.scheme == "https":
                return
            raise Refused(f"{target.host}: {provider}'s recording hosts are fetched over https only")
        raise Refused(
            f"{target.host} is not a recording host of {provider} "
            "(more are allowed by SESSIONARY_RECORDING_FETCH_HOSTS)"
        )


def is_public(address: IPAddress) -> bool:
    """Whether `address` is on the public internet: not private, loopback, link-local, reserved, multicast,
    unspecified, shared (CGNAT) nor another special range; an IPv4 address inside IPv6 (mapped, NAT64,
    6to4) is judged as that IPv4 address."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in _NAT64:
            return is_public(IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
        or any(address in network for network in _SPECIAL)
    )


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` resolves to (socket.getaddrinfo), each once, in the system's order."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # without an IPv6 zone
        if address not in found:
            found.append(address)
    return found


def addresses(
    target: Target, *, resolve: Resolver, allowed: Callable[[IPAddress], bool] = is_public
) -> list[IPAddress]:
    """The addresses to connect to for `target`: Refused unless every one it resolves to is `allowed`
    (one private address among public ones is enough to refuse: the connection could land on it).
    socket.gaierror when the name does not resolve."""
    found = [target.literal] if target.literal is not None else list(resolve(target.host, target.port))
    if not found:
        raise Refused(f"{target.host} resolves to no address")
    for address in found:
        if not allowed(address):
            named = "is" if target.literal is not None else f"resolves to {address},"
            raise Refused(
                f"{target.host} {named} not a public address (SESSIONARY_RECORDING_FETCH_ALLOW_PRIVATE "
                "allows private ones)"
            )
    return found
