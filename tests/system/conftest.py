"""Fixtures for the system tests: an empty, private database per test, for servers run as subprocesses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import empty_database, empty_postgres_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each kind (not migrated: `sessionary serve` and `keys create` migrate it)."""
    with empty_database(request.param, tmp_path_factory.mktemp("sysdb")) as url:
        yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """An empty PostgreSQL schema; skips when no PostgreSQL is configured."""
    with empty_postgres_schema() as url:
        yield url
