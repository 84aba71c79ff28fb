"""Allowed domains read a page URL as a browser does (WHATWG URL rules), not as `urllib.parse` does:
the host a browser would have been on is the one compared, and URLs the two parsers disagree on are
refused with the endpoint's Genesys ErrorBody (403 not.authorized), storing nothing."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from sessionary.db import Database, session_scope
from sessionary.errors import InvalidRequest
from sessionary.journey import urls
from sessionary.journey.deployments import normalize_domain
from sessionary.journey.models import JourneyEvent
from tests.conftest import Org
from tests.journey.builders import cookie, make_deployment, now, post_web, web

ERROR_KEYS = {"message", "code", "status", "contextId"}

HOSTILE = [
    "https://evil.com\\@good.com/",  # browsers: host evil.com, path /@good.com
    "https://evil.com\\.good.com/",  # browsers: host evil.com, path /.good.com
    "https:\\\\evil.com\\good.com",
    "https://good.com\\evil.com/",  # same host for a browser, but parsers disagree: refused
    "https://good.com@evil.com/",  # userinfo: the host is evil.com
    "https://good.com:443@evil.com/",
    "https://good.com%2F@evil.com/",
    "https://evil.com#@good.com/",
    "https://evil.com?.good.com/",
    "https://evilgood.com/",  # not below good.com
    "https://good.com.evil.com/",
    "https://a..good.com/",  # empty label
    "https://.good.com/",
    "javascript:alert(1)//good.com/",  # not http(s)
    "data:text/html,good.com",
    "ftp://good.com/",
    "https://10.0.0.1/",  # an IP never matches as a parent ("0.1" below)
    "https://1.0.0.1/",
]

ACCEPTED = [
    "https://good.com/",
    "https://GOOD.com./cart",  # uppercase and one trailing dot
    "https://shop.good.com:8443/x?q=a\\b",  # a port; a backslash in the query is harmless
    "https://user:pw@shop.good.com/",  # userinfo before an allowed host
    "https://xn--bcher-kva.example/",  # punycode of an allowed Unicode domain
    "https://BÜCHER.example/",  # Unicode of it
    "https://0.1/",  # the allowed IP itself (0.0.0.1)
    "good.com/path",  # scheme-less, read as http
]


@pytest.fixture
def deployment_id(database: Database, org: Org) -> str:
    return make_deployment(database, org.id, "good.com", "bücher.example", "0.1")


def _stored(database: Database, deployment_id: str) -> int:
    with session_scope(database.reader) as db:
        found = db.scalar(select(func.count()).where(JourneyEvent.deployment_id == deployment_id))
    return found or 0


@pytest.mark.parametrize("url", HOSTILE)
def test_a_page_url_a_browser_reads_as_off_the_allowed_domains_is_403_and_stores_nothing(
    client: httpx.Client, database: Database, deployment_id: str, url: str
) -> None:
    response = post_web(client, deployment_id, web(cookie(), now(), url=url))
    assert response.status_code == 403, response.text
    body = response.json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"details"}
    assert (body["code"], body["status"]) == ("not.authorized", 403)
    assert body["message"].startswith("page.url: ")
    assert _stored(database, deployment_id) == 0


@pytest.mark.parametrize("url", ACCEPTED)
def test_a_page_url_on_an_allowed_domain_is_accepted_however_it_is_written(
    client: httpx.Client, deployment_id: str, url: str
) -> None:
    response = post_web(client, deployment_id, web(cookie(), now(), url=url))
    assert response.status_code == 201, response.text


def test_the_stored_page_host_is_the_one_a_browser_reads() -> None:
    page = urls.page("https://good.com@Evil.COM:8443/a b?x=1#f", title=None, keywords=None, lang=None)
    assert (page["hostname"], page["pathname"], page["queryString"]) == ("evil.com", "/a%20b", "x=1")
    assert urls.page("https://evil.com\\@good.com/", title=None, keywords=None, lang=None)["hostname"] == (
        "evil.com"
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [("Good.COM.", "good.com"), ("bücher.example", "xn--bcher-kva.example"), ("0x7f.1", "127.0.0.1")],
)
def test_an_allowed_domain_is_stored_as_a_browser_writes_the_host(given: str, stored: str) -> None:
    assert normalize_domain(given) == stored


@pytest.mark.parametrize(
    "given", ["", "good.com/x", "https://good.com", "good.com:443", "a@good.com", "a..good.com", "a\\b.com"]
)
def test_an_allowed_domain_that_is_not_a_host_name_is_refused(given: str) -> None:
    with pytest.raises(InvalidRequest, match="is not a host name"):
        normalize_domain(given)
