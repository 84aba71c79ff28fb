"""A live server per database whose SESSIONARY_PUBLIC_URL is not the default, and API helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sessionary.config import Settings
from tests.helpers import LiveServer

PUBLIC_URL = "https://hooks.example.test/sessionary"  # what webhook URLs must be built on
INTEGRATIONS = "/api/v1/integrations"
# A secret of each provider's shape (Twilio auth token: 32 hex; Vapi: any string; Retell: key_...).
SECRETS = {
    "twilio": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "vapi": "vapi-server-secret-Zq81xW",
    "retell": "key_5c1f0e9a7b3d4c2e8f6a0b1d",
}


@pytest.fixture(scope="session")
def integrations_server(database_url: str) -> Iterator[LiveServer]:
    settings = Settings(database_url=database_url, public_url=PUBLIC_URL + "/", analysis_worker=False)
    with LiveServer.start(settings) as live:
        yield live


@pytest.fixture
def client(integrations_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=integrations_server.url, timeout=60) as http:
        yield http


def create(client: httpx.Client, key: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(INTEGRATIONS, json=body, headers={"Syllable-API-Key": key})


def create_ok(client: httpx.Client, key: str, provider: str = "twilio", **extra: Any) -> dict[str, Any]:
    response = create(client, key, {"provider": provider, "secret": SECRETS[provider], **extra})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def listed(client: httpx.Client, key: str, **params: Any) -> dict[str, Any]:
    response = client.get(INTEGRATIONS, params=params, headers={"Syllable-API-Key": key})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page
