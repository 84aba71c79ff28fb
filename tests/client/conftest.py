"""Fixtures of the producer client's tests: the proxy in front of the live server, clients that close."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sessionary_client import RetryPolicy, SessionaryClient
from tests.client.proxy import Proxy, serve
from tests.conftest import Org
from tests.helpers import LiveServer, list_sessions

# Retries in these tests wait a few milliseconds unless the server says otherwise (Retry-After).
FAST = RetryPolicy(max_retries=10, backoff=0.01, max_backoff=0.05)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll until `condition()` holds; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[tuple[Proxy, str]]:
    """A recording proxy in front of the live server, and its URL."""
    recorder = Proxy(server.url)
    with serve(recorder) as url:
        yield recorder, url


@pytest.fixture
def make_client() -> Iterator[Callable[..., SessionaryClient]]:
    """SessionaryClient(url, key, **options) with fast retries, closed after the test."""
    made: list[SessionaryClient] = []

    def make(url: str, key: str, **options: Any) -> SessionaryClient:
        made.append(SessionaryClient(url, key, **({"retry": FAST} | options)))
        return made[-1]

    yield make
    for client in made:
        client.close(timeout=10)


def turns(client: httpx.Client, org: Org) -> list[str]:
    """The texts of the transcript of the organization's only session, in order."""
    (session,) = list_sessions(client, org.read)["items"]
    response = client.get(f"/api/v1/sessions/transcript/{session['session_id']}", headers=org.headers("read"))
    assert response.status_code == 200, response.text
    return [turn["text"] for turn in response.json()["transcription"]]
