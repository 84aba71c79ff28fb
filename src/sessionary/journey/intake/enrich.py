"""Enrichment of an incoming event: browser and device from the user agent (ua-parser), geolocation and
IP organization from MaxMind-format databases (maxminddb); the client IP behind trusted proxies is in
sessionary.client_ip."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

# ua-parser and maxminddb are imported at first use (with the YAML reader ua-parser brings, 3 MB in every
# server process otherwise: most never see a web or app event).

_DESKTOP_OS = {
    "Windows",
    "Mac OS X",
    "macOS",
    "Linux",
    "Ubuntu",
    "Chrome OS",
    "ChromeOS",
    "Fedora",
    "FreeBSD",
}
_MOBILE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS"}


def _version(*parts: str | None) -> str:
    return ".".join(p for p in parts if p) or "Unknown"


def _category(ua: str, os_family: str, device_family: str) -> str:
    lowered = ua.lower()
    if device_family == "Spider" or "bot" in lowered:
        return "other"
    if device_family == "iPad" or "tablet" in lowered or (os_family == "Android" and "mobile" not in lowered):
        return "tablet"
    if os_family in _MOBILE_OS or "mobile" in lowered:
        return "mobile"
    if os_family in _DESKTOP_OS:
        return "desktop"
    return "other"


@lru_cache(maxsize=2048)
def _from_user_agent(ua: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from ua_parser import parse as parse_ua

    result = parse_ua(ua)
    agent, os, device = result.user_agent, result.os, result.device
    os_family = os.family if os else "Other"
    device_family = device.family if device else "Other"
    category = _category(ua, os_family, device_family)
    browser = {
        "family": agent.family if agent else "Other",
        "version": _version(agent.major, agent.minor, agent.patch) if agent else "Unknown",
    }
    found = {
        "category": category,
        "type": device_family,
        "isMobile": category in ("mobile", "tablet"),
        "osFamily": os_family,
        "osVersion": _version(os.major, os.minor, os.patch) if os else "Unknown",
    }
    if device and device.brand:
        found["manufacturer"] = device.brand
    return browser, found


def browser_and_device(
    ua: str | None, *, browser: dict[str, Any] | None, device: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Browser and Device: the request's own values win, the user agent fills in the rest."""
    parsed_browser, parsed_device = _from_user_agent(ua) if ua else ({}, {})
    merged_browser = {**parsed_browser, **(browser or {})} or None
    merged_device = {**parsed_device, **(device or {})} or None
    if device and merged_device is not None and "isMobile" not in device:
        # The device's own category, not what the user agent of whatever posted the event says.
        merged_device["isMobile"] = device.get("category") in ("mobile", "tablet")
    if merged_browser is not None and merged_device is not None and "isMobile" in merged_device:
        merged_browser.setdefault("isMobile", merged_device["isMobile"])
    return merged_browser, merged_device


class GeoIP:
    """Look-ups in a City database (geolocation) and an ASN database (IP organization); the City file
    may carry the organization too (`autonomous_system_organization`, `isp` or `organization`)."""

    def __init__(self, city: Path | None, asn: Path | None = None) -> None:
        import maxminddb

        self._city = maxminddb.open_database(str(city)) if city else None
        self._asn = maxminddb.open_database(str(asn)) if asn else None
        self.lookup = lru_cache(maxsize=8192)(self._lookup)

    def close(self) -> None:
        for reader in (self._city, self._asn):
            if reader is not None:
                reader.close()

    def _lookup(self, ip: str) -> tuple[dict[str, Any] | None, str | None]:
        city = _get(self._city, ip)
        organization = _organization(_get(self._asn, ip)) or _organization(city)
        return (_geolocation(city) if city else None), organization


def _get(reader: Any, ip: str) -> dict[str, Any] | None:
    if reader is None:
        return None
    try:
        record = reader.get(ip)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _name(node: Any) -> str | None:
    names = node.get("names") if isinstance(node, dict) else None
    return names.get("en") if isinstance(names, dict) else None


def _organization(record: dict[str, Any] | None) -> str | None:
    if not record:
        return None
    for key in ("autonomous_system_organization", "isp", "organization"):
        if isinstance(record.get(key), str):
            return str(record[key])
    return None


def _geolocation(record: dict[str, Any]) -> dict[str, Any] | None:
    country = record.get("country") or {}
    location = record.get("location") or {}
    subdivisions = record.get("subdivisions") or [{}]
    region = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else {}
    code = country.get("iso_code")
    found = {
        "country": code,
        "countryName": _name(country),
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "locality": _name(record.get("city")),
        "postalCode": (record.get("postal") or {}).get("code"),
        "region": f"{code}-{region['iso_code']}" if code and region.get("iso_code") else None,
        "regionName": _name(region),
        "timezone": location.get("time_zone"),
    }
    found = {k: v for k, v in found.items() if v is not None}
    return {**found, "source": "ip"} if found else None
