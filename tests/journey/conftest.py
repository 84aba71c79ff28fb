"""Fixtures shared by the journey tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sessionary.config import Settings
from tests.helpers import LiveServer
from tests.journey import mmdb


@pytest.fixture(scope="session")
def geo_client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server with a .mmdb (geolocation, IP organization) behind a trusted proxy on loopback."""
    path = mmdb.build(tmp_path_factory.mktemp("geo") / "city.mmdb")
    settings = Settings(
        database_url=database_url, journey_geoip_db=path, journey_trusted_proxies=["127.0.0.1"]
    )
    with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        yield http
