"""Console sign-in: read keys only, an HttpOnly SameSite cookie session, sign-out, CSRF on every form."""

from __future__ import annotations

import httpx

from tests.conftest import Org
from tests.console.helpers import csrf_of, signed_in
from tests.helpers import LiveServer


def test_pages_redirect_to_signin_without_a_session(client: httpx.Client) -> None:
    for path in ("/sessions", "/sessions/1", "/overview"):
        response = client.get(path, params={"agent": "x"}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")
        assert "agent" in response.headers["location"]


def test_root_leads_to_the_sessions_page(client: httpx.Client) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sessions"


def test_sign_in_sets_an_httponly_samesite_cookie_and_shows_the_organization(
    server: LiveServer, org: Org
) -> None:
    with httpx.Client(base_url=server.url) as http:
        page = http.get("/signin")
        response = http.post(
            "/signin",
            data={"api_key": org.read, "csrf_token": csrf_of(page.text), "next": "/sessions"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/sessions"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        sessions = http.get("/sessions")
        assert sessions.status_code == 200
        assert org.name in sessions.text


def test_a_wrong_key_or_an_ingest_only_key_cannot_sign_in(server: LiveServer, org: Org) -> None:
    with httpx.Client(base_url=server.url) as http:
        for key, message in (("sk_nope", "not valid"), (org.ingest, "read")):
            page = http.get("/signin")
            response = http.post("/signin", data={"api_key": key, "csrf_token": csrf_of(page.text)})
            assert response.status_code == 401
            assert message in response.text
            assert http.get("/sessions", follow_redirects=False).status_code == 303


def test_sign_in_without_the_csrf_token_is_403(server: LiveServer, org: Org) -> None:
    with httpx.Client(base_url=server.url) as http:
        http.get("/signin")
        for data in ({"api_key": org.read}, {"api_key": org.read, "csrf_token": "forged" * 8}):
            response = http.post("/signin", data=data, follow_redirects=False)
            assert response.status_code == 403
        assert http.get("/sessions", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_token_and_ends_the_session(server: LiveServer, org: Org) -> None:
    with signed_in(server.url, org.read) as http:
        assert http.post("/signout", data={}).status_code == 403
        assert http.get("/sessions").status_code == 200
        token = csrf_of(http.get("/sessions").text)
        response = http.post("/signout", data={"csrf_token": token})
        assert response.status_code == 303
        assert http.get("/sessions").status_code == 303


def test_a_tampered_cookie_is_not_a_session(server: LiveServer, org: Org) -> None:
    with signed_in(server.url, org.read) as http:
        value = http.cookies["sessionary_console"]
        http.cookies.set("sessionary_console", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
        assert http.get("/sessions").status_code == 303


def test_next_never_leaves_the_site(server: LiveServer, org: Org) -> None:
    with httpx.Client(base_url=server.url) as http:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil"):
            page = http.get("/signin")
            response = http.post(
                "/signin",
                data={"api_key": org.read, "csrf_token": csrf_of(page.text), "next": target},
                follow_redirects=False,
            )
            assert response.headers["location"] == "/sessions"


def test_api_requests_get_no_cookie(client: httpx.Client, org: Org) -> None:
    response = client.get("/api/v1/sessions/", headers=org.headers("read"))
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
