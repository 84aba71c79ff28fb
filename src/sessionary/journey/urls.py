"""What a URL says: the page (JourneyPage), the marketing campaign (UTM and click ids) and the referrer
with its medium and search keywords.

URLs are parsed by the WHATWG URL rules, as browsers parse them (ada-url: bindings to the parser of
Node.js), not by `urllib.parse`: the two disagree on backslashes, userinfo and IDNA, and the allowed-domain
check must see the host the browser was on.

Referrer media use a small hand-written table of search engines, social networks and web mail hosts:
the one library for this (referer-parser) was last released in 2016 and its data is stale.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote

from ada_url import URL, HostType

# host label (registrable domain without its suffix) -> (display name, query parameter of the keywords)
SEARCH_ENGINES: dict[str, tuple[str, str]] = {
    "google": ("Google", "q"),
    "bing": ("Bing", "q"),
    "yahoo": ("Yahoo!", "p"),
    "duckduckgo": ("DuckDuckGo", "q"),
    "baidu": ("Baidu", "wd"),
    "yandex": ("Yandex", "text"),
    "ecosia": ("Ecosia", "q"),
    "ask": ("Ask", "q"),
    "aol": ("AOL", "q"),
    "naver": ("Naver", "query"),
    "qwant": ("Qwant", "q"),
    "startpage": ("Startpage", "query"),
    "infospace": ("InfoSpace", "q"),
}
SOCIAL = {
    "facebook": "Facebook",
    "fb": "Facebook",
    "instagram": "Instagram",
    "twitter": "Twitter",
    "t": "Twitter",
    "x": "X",
    "linkedin": "LinkedIn",
    "lnkd": "LinkedIn",
    "pinterest": "Pinterest",
    "reddit": "Reddit",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "whatsapp": "WhatsApp",
    "snapchat": "Snapchat",
    "tumblr": "Tumblr",
    "threads": "Threads",
}
EMAIL_HOSTS = ("mail.google.com", "outlook.live.com", "outlook.office.com", "mail.yahoo.com", "mail.aol.com")
PAID_MEDIA = {"cpc", "ppc", "paid", "paidsearch", "cpm", "cpv", "display", "paid_social", "paidsocial"}
CLICK_IDS = {
    "gclid": "google",
    "gbraid": "google",
    "wbraid": "google",
    "fbclid": "facebook",
    "msclkid": "bing",
}
UTM = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "name", "utm_term": "term"}
UTM_CONTENT = "utm_content"


@cache
def _extractor() -> Any:
    """tldextract on its bundled list (no download), made at first use: with the `requests` it imports it
    holds 6 MB, in every server process otherwise (most never see a web event)."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


WEB_SCHEMES = ("http:", "https:")


@lru_cache(maxsize=8192)
def parse(url: str) -> URL | None:
    """The URL as a browser reads it (WHATWG); a scheme-less `host/path` is read as http; None if invalid."""
    text = url.strip()
    for candidate in (text, "http://" + text) if "://" not in text else (text,):
        try:
            return URL(candidate)
        except ValueError:
            continue
    return None


def _query(parsed: URL | None) -> str:
    return parsed.search.removeprefix("?") if parsed is not None else ""


@lru_cache(maxsize=8192)
def web_host(url: str) -> tuple[str | None, str | None]:
    """(host, None) for an http(s) URL whose host may be compared with allowed domains, else (None, why).

    The host is as a browser reads it: lowercase, IDNA in punycode, IPv4 in dotted decimal, no port, no
    userinfo, one trailing dot dropped. Refused: other schemes, a backslash before the query (browsers read
    it as `/`, other parsers as part of the host), and empty labels (`a..b`, `.b`)."""
    parsed = parse(url)
    if parsed is None or parsed.protocol not in WEB_SCHEMES or not parsed.hostname:
        return None, "not an http(s) URL with a host"
    if "\\" in url.split("?", 1)[0].split("#", 1)[0]:
        return None, "a backslash before the query"
    host = parsed.hostname
    if parsed.host_type == HostType.DEFAULT:
        host = host.removesuffix(".")
        if "" in host.split("."):
            return None, f"host '{parsed.hostname}' has an empty label"
    return host, None


def is_ip(host: str) -> bool:
    """True for an IPv4 or IPv6 host as `web_host` gives it (IPs match exactly, never as a parent)."""
    parsed = parse(f"http://{host}/")
    return parsed is not None and parsed.host_type != HostType.DEFAULT


@lru_cache(maxsize=4096)
def registrable_domain(hostname: str) -> str:
    """`shop.example.co.uk` -> `example.co.uk` (the host itself when it has no public suffix)."""
    result = _extractor()(hostname)
    return result.top_domain_under_public_suffix or hostname


def _parts(url: str) -> dict[str, Any]:
    parts = parse(url)
    hostname = parts.hostname if parts is not None else ""
    return {
        "url": url,
        "domain": registrable_domain(hostname) if hostname else None,
        "hostname": hostname or None,
        "pathname": (parts.pathname if parts is not None else "") or "/",
        "queryString": _query(parts) or None,
        "fragment": parts.hash.removeprefix("#") if parts is not None and parts.hash else None,
    }


@lru_cache(maxsize=8192)
def page(url: str, *, title: str | None, keywords: str | None, lang: str | None) -> dict[str, Any]:
    """A JourneyPage from the page URL and what the request says of it (cached: treat as read-only)."""
    return _drop_none({**_parts(url), "title": title, "keywords": keywords, "lang": lang, "breadcrumb": []})


@lru_cache(maxsize=8192)
def campaign(url: str | None) -> dict[str, Any] | None:
    """mktCampaign from the URL's UTM parameters and click ids (values URL-decoded), or None (cached:
    treat as read-only)."""
    if not url:
        return None
    query = parse_qs(_query(parse(url)), keep_blank_values=False)
    found: dict[str, Any] = {}
    for param, key in UTM.items():
        if query.get(param):
            found[key] = query[param][0]
    if query.get(UTM_CONTENT):
        found["content"] = query[UTM_CONTENT][0]
    for param, network in CLICK_IDS.items():
        if query.get(param):
            found.update(clickId=query[param][0], network=network)
            break
    return found or None


def campaign_key(value: dict[str, Any] | None) -> tuple[str | None, str | None] | None:
    """What makes two campaigns different: the source (or ad network) and the campaign name."""
    if not value:
        return None
    return (value.get("source") or value.get("network"), value.get("name"))


def referrer(url: str | None, *, page_host: str | None, mkt: dict[str, Any] | None) -> dict[str, Any] | None:
    """A Referrer from the referrer URL: its parts, medium and, for search engines, name and keywords."""
    if not url:
        return None
    found = _parts(url)
    host = found["hostname"] or ""
    domain = found["domain"] or ""
    label = domain.split(".")[0] if domain else ""
    query = parse_qs(found["queryString"] or "")
    medium = "unknown"
    if page_host and domain and domain == registrable_domain(page_host.lower()):
        medium = "internal"
    elif label in SEARCH_ENGINES and "mail." not in host:
        name, param = SEARCH_ENGINES[label]
        medium, found["name"] = "search", name
        if query.get(param):
            found["keywords"] = unquote(query[param][0])
    elif label in SOCIAL:
        medium, found["name"] = "social", SOCIAL[label]
    elif host in EMAIL_HOSTS or host.startswith(("mail.", "webmail.")):
        medium = "email"
    if (
        medium != "internal"
        and mkt
        and (mkt.get("clickId") or str(mkt.get("medium", "")).lower() in PAID_MEDIA)
    ):
        medium = "paid"
    elif medium == "unknown" and mkt and str(mkt.get("medium", "")).lower() == "email":
        medium = "email"
    found["medium"] = medium
    return _drop_none(found)


def _drop_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}
