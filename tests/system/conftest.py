"""Fixtures for the system tests: an empty, private database per test, for servers run as subprocesses."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from sessionary.db import normalize_url
from tests.conftest import POSTGRES_ENV, _postgres_schema_url


def _private_schema(base: str) -> Iterator[str]:
    """A URL whose search_path is a new, empty PostgreSQL schema, dropped afterwards."""
    schema = f"s_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(base, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each kind (not migrated: `sessionary serve` and `keys create` migrate it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sysdb') / 'sessionary.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    yield from _private_schema(base)


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """An empty PostgreSQL schema; skips when no PostgreSQL is configured."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: the two-server test needs a PostgreSQL both servers share")
    yield from _private_schema(base)
