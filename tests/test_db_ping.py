"""PostgreSQL connections in the pool: a dead one that sat idle is replaced before use (the ping on
checkout after `ping_after_idle` seconds); one used a moment ago is not pinged, fails its next statement
once if it died meanwhile, and is replaced after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, exc, text

from sessionary.db import Database, normalize_url, open_database, session_scope


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgres"):
        pytest.skip("the ping is PostgreSQL's (SQLite files do not disconnect)")
    return database_url


@pytest.fixture
def pool_of_one(postgres_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    database = open_database(postgres_url, pool_size=1, ping_after_idle=request.param)
    try:
        yield database
    finally:
        database.dispose()


def backend_pid(database: Database) -> int:
    with session_scope(database.reader) as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(url: str, pid: int) -> None:
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
            # pg_terminate_backend only signals: wait until the backend is gone
            conn.execute(
                text(
                    "DO $$ BEGIN WHILE EXISTS (SELECT FROM pg_stat_activity WHERE pid = "
                    f"{int(pid)}) LOOP PERFORM pg_sleep(0.01); END LOOP; END $$"
                )
            )
    finally:
        admin.dispose()


@pytest.mark.parametrize("pool_of_one", [0.0], indirect=True)
def test_a_connection_that_died_while_idle_is_replaced_before_its_next_transaction(
    postgres_url: str, pool_of_one: Database
) -> None:
    first = backend_pid(pool_of_one)
    terminate(postgres_url, first)
    assert backend_pid(pool_of_one) != first  # no error: the ping found it dead and the pool reconnected


@pytest.mark.parametrize("pool_of_one", [3600.0], indirect=True)
def test_a_connection_used_a_moment_ago_is_not_pinged_and_is_replaced_after_failing_once(
    postgres_url: str, pool_of_one: Database
) -> None:
    first = backend_pid(pool_of_one)
    terminate(postgres_url, first)
    with pytest.raises(exc.OperationalError) as failed:
        backend_pid(pool_of_one)
    assert failed.value.connection_invalidated
    assert backend_pid(pool_of_one) != first
