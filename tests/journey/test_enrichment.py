"""Each enrichment on its own: user agent (ua-parser), the .mmdb look-up (maxminddb), UTM and click ids,
referrer media and search keywords, and the client IP behind trusted proxies."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionary import client_ip
from sessionary.journey import urls
from sessionary.journey.intake import enrich
from tests.journey.builders import UA_CHROME, UA_IPHONE
from tests.journey.mmdb import NO_CITY, PARIS, build

IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("ua", "browser", "device"),
    [
        (UA_IPHONE, ("Mobile Safari", "17.4"), ("mobile", "iPhone", "iOS", "17.4", True)),
        (UA_CHROME, ("Chrome", "124.0.6367"), ("desktop", "Other", "Windows", "10", False)),
        (IPAD, ("Mobile Safari", "16.6"), ("tablet", "iPad", "iOS", "16.6", True)),
        (
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            ("Googlebot", "2.1"),
            ("other", "Spider", "Other", "Unknown", False),
        ),
    ],
)
def test_browser_and_device_come_from_the_user_agent(ua: str, browser: tuple, device: tuple) -> None:
    found_browser, found_device = enrich.browser_and_device(ua, browser=None, device=None)
    assert found_browser is not None
    assert found_device is not None
    assert (found_browser["family"], found_browser["version"]) == browser
    got = tuple(found_device[k] for k in ("category", "type", "osFamily", "osVersion", "isMobile"))
    assert got == device


def test_values_the_request_supplies_win_over_the_user_agent() -> None:
    browser, device = enrich.browser_and_device(
        UA_IPHONE,
        browser={"family": "Brave", "version": "1.2", "lang": "fr-FR"},
        device={"category": "tablet"},
    )
    assert browser == {"family": "Brave", "version": "1.2", "lang": "fr-FR", "isMobile": True}
    assert device is not None
    assert (device["category"], device["osFamily"]) == ("tablet", "iOS")
    assert enrich.browser_and_device(None, browser=None, device=None) == (None, None)


def test_utm_parameters_and_click_ids_make_the_campaign() -> None:
    url = "https://shop.example/?utm_source=News%20Letter&utm_medium=email&utm_campaign=May+Sale&utm_term=red&utm_content=top"
    assert urls.campaign(url) == {
        "source": "News Letter",
        "medium": "email",
        "name": "May Sale",
        "term": "red",
        "content": "top",
    }
    assert urls.campaign("https://shop.example/p?fbclid=XYZ") == {"clickId": "XYZ", "network": "facebook"}
    assert urls.campaign("https://shop.example/p?msclkid=m1&utm_source=bing") == {
        "source": "bing",
        "clickId": "m1",
        "network": "bing",
    }
    assert urls.campaign("https://shop.example/p?q=1") is None


@pytest.mark.parametrize(
    ("referrer", "campaign", "medium", "name", "keywords"),
    [
        ("https://www.example.com/cart", None, "internal", None, None),
        ("https://www.google.co.uk/search?q=red%20shoes", None, "search", "Google", "red shoes"),
        ("https://duckduckgo.com/?q=socks", None, "search", "DuckDuckGo", "socks"),
        ("https://search.yahoo.com/search?p=hats", None, "search", "Yahoo!", "hats"),
        ("https://l.facebook.com/l.php?u=x", None, "social", "Facebook", None),
        ("https://t.co/abc", None, "social", "Twitter", None),
        ("https://mail.google.com/mail/u/0/", None, "email", None, None),
        ("https://www.google.com/", {"clickId": "g1", "network": "google"}, "paid", "Google", None),
        ("https://news.example.org/story", {"medium": "cpc", "source": "news"}, "paid", None, None),
        ("https://news.example.org/story", None, "unknown", None, None),
    ],
)
def test_referrer_medium_name_and_search_keywords(
    referrer: str, campaign: dict | None, medium: str, name: str | None, keywords: str | None
) -> None:
    found = urls.referrer(referrer, page_host="shop.example.com", mkt=campaign)
    assert found is not None
    assert (found["medium"], found.get("name"), found.get("keywords")) == (medium, name, keywords)


def test_the_page_is_split_into_registrable_domain_host_path_query_and_fragment() -> None:
    page = urls.page("https://shop.example.co.uk/a/b?x=1#top", title="T", keywords=None, lang="en")
    assert page == {
        "url": "https://shop.example.co.uk/a/b?x=1#top",
        "domain": "example.co.uk",
        "hostname": "shop.example.co.uk",
        "pathname": "/a/b",
        "queryString": "x=1",
        "fragment": "top",
        "title": "T",
        "lang": "en",
        "breadcrumb": [],
    }


def test_x_forwarded_for_is_honoured_only_from_trusted_proxies() -> None:
    trusted = client_ip.trusted_networks(["10.0.0.0/8", "127.0.0.1"])
    chain = "198.51.100.7, 203.0.113.9, 10.1.2.3"
    assert client_ip.client_ip("127.0.0.1", chain, trusted) == "203.0.113.9"  # the nearest untrusted hop
    assert (
        client_ip.client_ip("192.0.2.50", chain, trusted) == "192.0.2.50"
    )  # an untrusted peer's header is ignored
    assert client_ip.client_ip("127.0.0.1", None, trusted) == "127.0.0.1"
    assert client_ip.client_ip("127.0.0.1", "garbage, 10.0.0.9", trusted) is None
    assert client_ip.client_ip("127.0.0.1", chain, ()) == "127.0.0.1"


def test_the_mmdb_look_up_gives_geolocation_and_ip_organization(tmp_path: Path) -> None:
    geo = enrich.GeoIP(build(tmp_path / "city.mmdb"))
    try:
        location, organization = geo.lookup(PARIS)
        assert location == {
            "country": "FR",
            "countryName": "France",
            "latitude": 48.8566,
            "longitude": 2.3522,
            "locality": "Paris",
            "postalCode": "75001",
            "region": "FR-IDF",
            "regionName": "Île-de-France",
            "timezone": "Europe/Paris",
            "source": "ip",
        }
        assert organization == "Example Telecom"
        assert geo.lookup(NO_CITY) == (
            {"country": "US", "countryName": "United States", "source": "ip"},
            "Documentation ISP",
        )
        assert geo.lookup("192.0.2.1") == (None, None)
        assert geo.lookup("2001:db8::1") == (None, None)  # IPv6 in an IPv4-only database
    finally:
        geo.close()
