"""A live server per database that voice platforms reach at helpers.PUBLIC_URL (what Twilio signs), and that
fetches recordings from the tests' fake provider on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import LiveServer
from tests.otel.otlp import server_with
from tests.webhooks.helpers import PUBLIC_URL


@pytest.fixture(scope="module")
def hooks(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with server_with(
        database_url,
        tmp_path_factory.mktemp("blobs"),
        public_url=PUBLIC_URL,
        recording_fetch_allow_private=True,
        recording_fetch_hosts=["127.0.0.1"],
        recording_fetch_poll_seconds=0.05,
    ) as live:
        yield live
