"""Console sessions end server-side at sign-out; console POSTs from another origin are refused; every
page carries the security headers and has no inline script or style for its policy to block."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from sessionary.config import Settings
from tests.conftest import Org
from tests.console.helpers import csrf_of, signed_in
from tests.helpers import LiveServer, event, ingest_ok

COOKIE = "sessionary_console"


def test_a_cookie_copied_before_sign_out_is_refused_after_it(server: LiveServer, org: Org) -> None:
    with signed_in(server.url, org.read) as http:
        copied = http.cookies[COOKIE]
        page = http.get("/sessions")
        assert page.status_code == 200
        assert http.post("/signout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    with httpx.Client(base_url=server.url, cookies={COOKIE: copied}, timeout=30) as thief:
        replayed = thief.get("/sessions", follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/signin")


def test_signing_out_one_browser_leaves_another_signed_in(server: LiveServer, org: Org) -> None:
    with signed_in(server.url, org.read) as first, signed_in(server.url, org.read) as second:
        page = first.get("/sessions")
        first.post("/signout", data={"csrf_token": csrf_of(page.text)})
        assert first.get("/sessions", follow_redirects=False).status_code == 303
        assert second.get("/sessions").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_a_console_post_from_another_origin_is_403_even_with_the_token(
    server: LiveServer, org: Org, headers: dict[str, str]
) -> None:
    with signed_in(server.url, org.read) as http:
        page = http.get("/sessions")
        response = http.post("/signout", data={"csrf_token": csrf_of(page.text)}, headers=headers)
        assert response.status_code == 403
        assert http.get("/sessions").status_code == 200  # still signed in: the post did nothing


def test_a_console_post_from_its_own_origin_or_without_origin_is_checked_by_the_token(
    server: LiveServer, org: Org
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        page = http.get("/signin")
        own = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
        data = {"api_key": org.read, "csrf_token": csrf_of(page.text), "next": "/sessions"}
        assert http.post("/signin", data=data, headers=own).status_code == 303
    with httpx.Client(base_url=server.url, timeout=30) as http:
        http.get("/signin")
        no_token = http.post("/signin", data={"api_key": org.read}, follow_redirects=False)
        assert no_token.status_code == 403


def _assert_page_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script element without src
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),  # onclick=, onload= ...
    re.compile(r"javascript:", re.I),
]


def test_every_console_page_has_the_security_headers_and_nothing_inline(
    server: LiveServer, client: httpx.Client, org: Org
) -> None:
    ingest_ok(client, org.ingest, [
        event("h1", "session.started", sid="hdr"),
        event("h2", sid="hdr"),
        event("h3", "latency", sid="hdr"),
        event("h4", "transcript", sid="hdr", data={"source": "agent", "text": "hi"}),
    ])  # fmt: skip
    signin = client.get("/signin")
    _assert_page_headers(signin)
    with signed_in(server.url, org.read) as http:
        listing = http.get("/sessions")
        session_id = re.search(r'href="/sessions/(\d+)"', listing.text)
        assert session_id, "no session link on the list"
        pages = [signin, listing, http.get(f"/sessions/{session_id.group(1)}"), http.get("/overview")]
        for page in pages:
            assert page.status_code == 200, page.url
            _assert_page_headers(page)
            for pattern in INLINE:
                assert not pattern.search(page.text), f"{page.url}: {pattern.pattern}"


def test_behind_a_trusted_proxy_the_origin_is_checked_against_x_forwarded_host(
    database_url: str, tmp_path: Path, org: Org
) -> None:
    settings = Settings(
        database_url=database_url,
        blob_dir=tmp_path,
        analysis_worker=False,
        journey_trusted_proxies=["127.0.0.1"],
    )
    proxied = {"Origin": "https://console.example", "X-Forwarded-Host": "console.example"}
    with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        page = http.get("/signin")
        data = {"api_key": org.read, "csrf_token": csrf_of(page.text), "next": "/sessions"}
        assert http.post("/signin", data=data, headers=proxied).status_code == 303


def test_x_forwarded_host_from_an_untrusted_peer_is_ignored(server: LiveServer, org: Org) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        page = http.get("/signin")
        data = {"api_key": org.read, "csrf_token": csrf_of(page.text), "next": "/sessions"}
        forged = {"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"}
        assert http.post("/signin", data=data, headers=forged).status_code == 403
