"""Failed authentications are limited per client address (429 with Retry-After) on both API faces and
the console sign-in, counted in the database so that every server process on it shares the count.

The servers here trust 127.0.0.1 as a proxy, so each test names its own client in X-Forwarded-For and
no test's failures count against another's (or against the rest of the suite's, all from 127.0.0.1)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.errors import TooManyRequests
from sessionary.tenancy.models import AuthFailureCounter
from sessionary.tenancy.ratelimit import FailedAuthLimiter, address_key
from tests.conftest import Org
from tests.console.helpers import csrf_of
from tests.helpers import LiveServer

LIMIT = 3
_addresses = itertools.count(1)
SESSIONS = "/api/v1/sessions/"
GENESYS = "/api/v2/journey/sessions/nope"


def _settings(database_url: str, blob_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        blob_dir=blob_dir,
        analysis_worker=False,
        auth_failure_limit=LIMIT,
        auth_failure_window_seconds=600,
        journey_trusted_proxies=["127.0.0.1"],
    )


@pytest.fixture(scope="module")
def two_servers(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two server processes' worth of apps on one database (each its own engine and limiter)."""
    settings = _settings(database_url, tmp_path_factory.mktemp("blobs"))
    with LiveServer.start(settings) as first, LiveServer.start(settings) as second:
        yield first, second


@pytest.fixture
def address() -> str:
    """A client address of this test's own (in 198.18.0.0/15, reserved for testing)."""
    n = next(_addresses)
    return f"198.18.{n // 250}.{n % 250 + 1}"


def _get(server: LiveServer, address: str, path: str = SESSIONS, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers={"X-Forwarded-For": address, **headers}, timeout=30)


def _assert_429(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 600


def test_wrong_keys_past_the_limit_get_429_with_retry_after_and_then_even_a_valid_key_does(
    two_servers: tuple[LiveServer, LiveServer], org: Org, address: str
) -> None:
    server = two_servers[0]
    for _ in range(LIMIT):
        assert _get(server, address, **{"Syllable-API-Key": "sk_wrong"}).status_code == 401
    refused = _get(server, address, **{"Syllable-API-Key": "sk_wrong"})
    _assert_429(refused)
    assert "Too many failed authentications" in refused.json()["detail"]
    _assert_429(_get(server, address, **org.headers("read")))
    assert _get(server, "198.19.0.1", **org.headers("read")).status_code == 200  # others are not blocked


def test_the_genesys_face_answers_429_as_an_error_body_with_retry_after(
    two_servers: tuple[LiveServer, LiveServer], address: str
) -> None:
    server = two_servers[0]
    for _ in range(LIMIT):
        assert _get(server, address, GENESYS, Authorization="Bearer sk_wrong").status_code == 401
    refused = _get(server, address, GENESYS, Authorization="Bearer sk_wrong")
    _assert_429(refused)
    body = refused.json()
    assert body["code"] == "too.many.requests"
    assert body["status"] == 429


def test_two_servers_on_one_database_share_the_count(
    two_servers: tuple[LiveServer, LiveServer], org: Org, address: str
) -> None:
    first, second = two_servers
    wrong = {"Syllable-API-Key": "sk_wrong"}
    assert _get(first, address, **wrong).status_code == 401
    assert _get(first, address, **wrong).status_code == 401
    assert _get(second, address, **wrong).status_code == 401
    _assert_429(_get(second, address, **wrong))  # the fourth failure, wherever it lands
    _assert_429(_get(second, address, **org.headers("read")))
    _assert_429(_get(first, address, **wrong))  # the first server reads the shared count
    _assert_429(_get(first, address, **org.headers("read")))


def test_a_missing_key_is_not_counted(
    two_servers: tuple[LiveServer, LiveServer], org: Org, address: str
) -> None:
    server = two_servers[0]
    for _ in range(LIMIT * 3):
        assert _get(server, address).status_code == 401
    assert _get(server, address, **org.headers("read")).status_code == 200


def test_successful_requests_write_no_counter(
    two_servers: tuple[LiveServer, LiveServer], org: Org, address: str, database: Database
) -> None:
    for server in two_servers:
        for _ in range(5):
            assert _get(server, address, **org.headers("read")).status_code == 200
    with session_scope(database.reader) as db:
        rows = db.scalar(select(func.count()).where(AuthFailureCounter.key.contains(address_key(address))))
    assert rows == 0


def test_console_sign_in_with_wrong_keys_is_limited_too(
    two_servers: tuple[LiveServer, LiveServer], org: Org, address: str
) -> None:
    with httpx.Client(base_url=two_servers[0].url, headers={"X-Forwarded-For": address}, timeout=30) as http:
        statuses = []
        for key in ["sk_wrong"] * (LIMIT + 1) + [org.read]:
            page = http.get("/signin")
            response = http.post("/signin", data={"api_key": key, "csrf_token": csrf_of(page.text)})
            statuses.append(response.status_code)
        assert statuses == [401] * LIMIT + [429, 429]
        assert 1 <= int(response.headers["retry-after"]) <= 600
        assert "Too many failed authentications" in response.text


def test_ipv6_clients_are_counted_per_64_and_ipv4_per_address() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("192.0.2.1") != address_key("192.0.2.2")


def test_write_routes_count_wrong_keys_too(two_servers: tuple[LiveServer, LiveServer], address: str) -> None:
    server = two_servers[0]
    headers = {"X-Forwarded-For": address, "Syllable-API-Key": "sk_wrong"}
    label = {"session_id": 1, "type": "human-rating", "code": "GOOD", "user_email": "qa@x.io"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        statuses = [http.post("/api/v1/session_labels/", json=label).status_code for _ in range(LIMIT - 1)]
        statuses.append(http.post("/api/v1/ingest/events", json={"events": []}).status_code)
        statuses.append(http.post("/api/v1/session_labels/", json=label).status_code)
    assert statuses == [401] * LIMIT + [429]


def test_a_block_ends_with_its_window(database: Database, database_url: str, address: str) -> None:
    settings = Settings(database_url=database_url, auth_failure_limit=1, auth_failure_window_seconds=1)
    limiter = FailedAuthLimiter(database, settings)
    key = address_key(address)
    limiter.failed(key)
    with pytest.raises(TooManyRequests):
        limiter.failed(key)
    assert limiter.blocking
    deadline = time.monotonic() + 30
    while limiter.blocking and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not limiter.blocking
    limiter.check(key)  # no longer refused
    limiter.failed(key)  # a new window: one failure allowed again
