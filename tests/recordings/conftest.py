"""A live server per database with a small recording limit and a blob directory of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sessionary.config import Settings
from tests.helpers import LiveServer

LIMIT = 256 * 1024  # SESSIONARY_RECORDING_MAX_BYTES of the test server


@pytest.fixture(scope="session")
def blob_dir(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test server's blob directory (one per database)."""
    return tmp_path_factory.mktemp("recordings")


@pytest.fixture(scope="session")
def recording_server(database_url: str, blob_dir: Path) -> Iterator[LiveServer]:
    settings = Settings(database_url=database_url, blob_dir=blob_dir, recording_max_bytes=LIMIT)
    with LiveServer.start(settings) as live:
        yield live


@pytest.fixture
def client(recording_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=recording_server.url, timeout=60) as http:
        yield http
