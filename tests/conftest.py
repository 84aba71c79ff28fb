"""Fixtures: real databases (SQLite always, PostgreSQL when SESSIONARY_TEST_POSTGRES_URL is set), built by
the migrations, a live server per database on a loopback port, and a fresh organization per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sessionary import migrate
from sessionary.config import Settings
from sessionary.db import Database, normalize_url, open_database, session_scope
from sessionary.tenancy import service as tenancy
from tests.helpers import LiveServer

POSTGRES_ENV = "SESSIONARY_TEST_POSTGRES_URL"
# Every server of the suite (in-process or `sessionary serve`) sees the suite's many deliberate wrong keys
# from 127.0.0.1, counted in the shared database; tests/tenancy sets its own limit to test the limit itself.
os.environ.setdefault("SESSIONARY_AUTH_FAILURE_LIMIT", "100000")
# The suite's servers share databases: a recording fetch worker in each would take other tests' jobs.
# tests/recordings/test_fetch_live.py starts servers with it on, on databases of their own.
os.environ.setdefault("SESSIONARY_RECORDING_FETCH_WORKER", "false")
# Likewise a purge worker would apply one test's retention periods while others look (and sweep blobs):
# tests/lifecycle runs purges itself, with a moved clock.
os.environ.setdefault("SESSIONARY_PURGE_WORKER", "false")


def _postgres_schema_url(base: str, schema: str) -> str:
    url = make_url(normalize_url(base))
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def postgres_base() -> str:
    """The tests' PostgreSQL server; skips the test when none is configured."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    return base


@contextmanager
def empty_postgres_schema() -> Iterator[str]:
    """A URL whose search_path is a new, empty PostgreSQL schema of its own, dropped afterwards."""
    base = postgres_base()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(base, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[str]:
    """An empty database (no tables) of `kind`: a SQLite file in `directory`, or a PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'sessionary.db'}"
        return
    with empty_postgres_schema() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database of each kind; PostgreSQL gets a schema of its own."""
    with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url, pool_size=2)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app, served by uvicorn on a free loopback port, on this database (blobs in a temp dir).

    Its analysis worker is off, so ended sessions keep no label until a test asks (tests/analysis starts
    servers of its own with the worker on)."""
    settings = Settings(
        database_url=database_url,
        blob_dir=tmp_path_factory.mktemp("blobs"),
        analysis_worker=False,
    )
    with LiveServer.start(settings) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@dataclass(frozen=True)
class Org:
    """A fresh organization with one key per scope."""

    id: int
    name: str
    admin: str
    read: str
    ingest: str

    def headers(self, scope: str = "admin") -> dict[str, str]:
        return {"Syllable-API-Key": getattr(self, scope)}


def make_org(database: Database, name: str | None = None) -> Org:
    name = name or f"org-{uuid.uuid4().hex[:10]}"
    with session_scope(database.writer) as db:
        org = tenancy.get_or_create_organization(db, name=name)
        keys = {s: tenancy.create_api_key(db, organization_id=org.id, scopes=[s])[1] for s in tenancy.SCOPES}
        return Org(id=org.id, name=name, **keys)


@pytest.fixture
def org(database: Database) -> Org:
    return make_org(database)


@pytest.fixture
def other_org(database: Database) -> Org:
    return make_org(database)


@pytest.fixture(params=["sqlite", "postgresql"])
def private_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """A migrated database no other test uses, and a handle on it."""
    with empty_database(request.param, tmp_path) as url:
        migrate.upgrade(url)
        database = open_database(url, pool_size=2)
        try:
            yield url, database
        finally:
            database.dispose()
