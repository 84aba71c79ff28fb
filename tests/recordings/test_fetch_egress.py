"""The fetcher's SSRF checks, without a network: which addresses are public, which hosts and URLs are
taken, and that a host resolving to several addresses is refused when any one of them is not public."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from sessionary.recordings.egress import (
    URL_MAX_CHARS,
    BadURL,
    HostRules,
    IPAddress,
    Refused,
    addresses,
    host_matches,
    is_public,
    parse_url,
)

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "52.94.236.248",  # an AWS address (S3)
    "100.63.255.255",  # just below the shared (CGNAT) range
    "100.128.0.0",  # just above it
    "172.15.255.255",  # just below 172.16.0.0/12
    "2606:4700:4700::1111",
    "2a00:1450:4001:830::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped: judged as the IPv4 address
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]
NOT_PUBLIC = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "10.1.2.3",  # private
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "100.64.0.1",  # shared address space (CGNAT)
    "100.127.255.254",
    "0.0.0.0",  # unspecified
    "0.1.2.3",  # "this network"
    "255.255.255.255",  # broadcast
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "192.0.0.8",  # IETF protocol assignments
    "::1",  # loopback
    "::",  # unspecified
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "fd12:3456:789a::1",
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:100.64.0.1",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "2001::1",  # Teredo
    "3fff::1",  # documentation (2024)
    "5f00::1",  # SRv6 SIDs
    "100::1",  # discard-only
    "64:ff9b:1::1",  # NAT64, local use
    "198.51.100.7",  # documentation
    "203.0.113.7",
]


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_address_is_public(address: str) -> None:
    assert is_public(ip_address(address))


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_private_or_special_address_is_not_public(address: str) -> None:
    assert not is_public(ip_address(address))


def _resolver(table: dict[str, Sequence[str]]) -> tuple[list[str], object]:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [ip_address(a) for a in table.get(host, [])]

    return asked, resolve


def test_a_host_resolving_only_to_public_addresses_gives_them_in_order() -> None:
    _, resolve = _resolver({"media.example.com": ["8.8.8.8", "2606:4700:4700::1111"]})
    found = addresses(parse_url("https://media.example.com/a"), resolve=resolve)  # type: ignore[arg-type]
    assert found == [IPv4Address("8.8.8.8"), IPv6Address("2606:4700:4700::1111")]


@pytest.mark.parametrize(
    "resolved",
    [
        ["8.8.8.8", "10.0.0.5"],
        ["10.0.0.5", "8.8.8.8"],
        ["2606:4700:4700::1111", "::1"],
        ["8.8.8.8", "::ffff:127.0.0.1"],
        ["1.1.1.1", "8.8.8.8", "169.254.169.254"],
    ],
)
def test_a_host_with_one_private_address_among_public_ones_is_refused(resolved: list[str]) -> None:
    _, resolve = _resolver({"media.example.com": resolved})
    with pytest.raises(Refused, match="media.example.com resolves to .*not a public address"):
        addresses(parse_url("https://media.example.com/a"), resolve=resolve)  # type: ignore[arg-type]


def test_a_host_resolving_to_nothing_is_refused() -> None:
    _, resolve = _resolver({})
    with pytest.raises(Refused, match="resolves to no address"):
        addresses(parse_url("https://media.example.com/a"), resolve=resolve)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a",
        "http://2130706433/a",  # 127.0.0.1 written as one number
        "http://0x7f.1/a",  # and in hex
        "http://017700000001/a",  # and in octal
        "http://[::1]/a",
        "http://[::ffff:127.0.0.1]/a",
        "http://[::ffff:7f00:1]/a",
        "http://169.254.169.254/latest/meta-data/",
        "http://0/a",
    ],
)
def test_a_private_literal_address_is_refused_without_asking_a_resolver(url: str) -> None:
    asked, resolve = _resolver({})
    with pytest.raises(Refused, match="is not a public address"):
        addresses(parse_url(url), resolve=resolve)  # type: ignore[arg-type]
    assert asked == []


def test_private_addresses_pass_when_the_check_allows_them() -> None:
    _, resolve = _resolver({"localhost": ["127.0.0.1", "::1"]})
    found = addresses(parse_url("http://localhost:9/a"), resolve=resolve, allowed=lambda _a: True)  # type: ignore[arg-type]
    assert found == [IPv4Address("127.0.0.1"), IPv6Address("::1")]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("/relative/path", "not a valid URL"),
        ("//media.example.com/a", "not a valid URL"),
        ("ftp://media.example.com/a", "absolute http or https"),
        ("file:///etc/passwd", "absolute http or https"),
        ("gopher://127.0.0.1:6379/_INFO", "absolute http or https"),
        ("http:/media.example.com/a", "absolute http or https"),  # WHATWG would take it; we do not
        ("http:media.example.com/a", "absolute http or https"),
        ("http:\\\\media.example.com\\a", "absolute http or https"),
        ("https://user:pass@media.example.com/a", "credentials"),
        ("https://user@media.example.com/a", "credentials"),
        ("https://:pass@media.example.com/a", "credentials"),
        ("https://media.example.com/a b", "control characters"),
        ("https://media.example.com/a\tb", "control characters"),
        ("https://media.example.com/a\nb", "control characters"),
        ("https://media.example.com/\x00", "control characters"),
        ("https://media.example.com/\x7f", "control characters"),
        ("https://media.example.com/\x85", "control characters"),
        ("https://media.example.com:99999/a", "not a valid URL"),
        ("https://media.example.com/" + "a" * URL_MAX_CHARS, f"at most {URL_MAX_CHARS}"),
        ("https://media.example.com/" + "é" * 1000, f"at most {URL_MAX_CHARS}"),  # once percent-encoded
    ],
)
def test_a_url_that_is_not_absolute_http_with_a_host_is_refused(url: str, why: str) -> None:
    with pytest.raises(BadURL, match=why):
        parse_url(url)


def test_a_url_is_normalized_and_its_parts_are_what_is_sent() -> None:
    target = parse_url("HTTPS://Media.Example.COM:443/rec/a%20b.wav?x=1&y=é#frag")
    assert target.url == "https://media.example.com/rec/a%20b.wav?x=1&y=%C3%A9"
    assert (target.scheme, target.host, target.port) == ("https", "media.example.com", 443)
    assert target.host_header == "media.example.com"
    assert target.target == "/rec/a%20b.wav?x=1&y=%C3%A9"
    assert target.literal is None


def test_an_international_host_becomes_punycode_and_a_port_goes_into_the_host_header() -> None:
    target = parse_url("http://bücher.example:8080")
    assert (target.host, target.port, target.host_header) == (
        "xn--bcher-kva.example",
        8080,
        "xn--bcher-kva.example:8080",
    )
    assert target.target == "/"


def test_an_ip_literal_is_parsed_as_the_browser_would() -> None:
    assert parse_url("http://2130706433/").literal == IPv4Address("127.0.0.1")
    target = parse_url("http://[::ffff:127.0.0.1]:81/a")
    assert (target.literal, target.host, target.host_header) == (
        IPv6Address("::ffff:7f00:1"),
        "::ffff:7f00:1",
        "[::ffff:7f00:1]:81",
    )


def test_a_redirect_location_is_resolved_against_the_url_it_came_from() -> None:
    base = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.wav"
    assert parse_url("/media/RE1", base=base).url == "https://api.twilio.com/media/RE1"
    assert parse_url("//media.twiliocdn.com/x", base=base).url == "https://media.twiliocdn.com/x"
    assert parse_url("http://10.0.0.1/", base=base).literal == IPv4Address("10.0.0.1")


@pytest.mark.parametrize(
    ("host", "pattern", "matches"),
    [
        ("api.twilio.com", "api.twilio.com", True),
        ("api.twilio.com", "*.twilio.com", True),
        ("a.b.twilio.com", "*.twilio.com", True),
        ("twilio.com", "*.twilio.com", False),
        ("eviltwilio.com", "*.twilio.com", False),
        ("api.twilio.com.evil.com", "*.twilio.com", False),
        ("api.twilio.com", "twilio.com", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("::1", "::1", True),
        ("::1", "0:0:0:0:0:0:0:1", True),
        ("storage.example.com", "STORAGE.example.com", True),
    ],
)
def test_host_patterns_match_exact_names_and_subdomains(host: str, pattern: str, matches: bool) -> None:
    assert host_matches(host, pattern) is matches


def test_a_provider_host_is_fetched_over_https_only() -> None:
    rules = HostRules()
    rules.check("twilio", parse_url("https://api.twilio.com/a"))
    rules.check("vapi", parse_url("https://storage.vapi.ai/a.wav"))
    with pytest.raises(Refused, match="over https only"):
        rules.check("twilio", parse_url("http://api.twilio.com/a"))


def test_a_host_not_allowed_for_the_provider_is_refused() -> None:
    rules = HostRules()
    with pytest.raises(Refused, match="not a recording host of vapi"):
        rules.check("vapi", parse_url("https://api.twilio.com/a"))  # Twilio's host, Vapi's job
    with pytest.raises(Refused, match="not a recording host of twilio"):
        rules.check("twilio", parse_url("https://127.0.0.1/a"))


def test_hosts_the_operator_added_are_allowed_over_http_too() -> None:
    rules = HostRules(extra=("127.0.0.1", "*.storage.example.com"))
    rules.check("twilio", parse_url("http://127.0.0.1:9000/a"))
    rules.check("retell", parse_url("http://eu.storage.example.com/a"))
    with pytest.raises(Refused):
        rules.check("retell", parse_url("http://storage.example.com/a"))
