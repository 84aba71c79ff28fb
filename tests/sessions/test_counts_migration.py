"""Migration 0016 fills session_count from the sessions a database already holds, installs the triggers
that keep it, and goes down again cleanly; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from sessionary import migrate
from sessionary.db import open_database, session_scope
from sessionary.tenancy import service as tenancy
from tests.conftest import empty_database
from tests.sessions.counting import assert_counts_exact, make_session

AT = datetime(2024, 6, 19, 23, 59, 59, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database(request.param, tmp_path) as url:
        yield url


def _downgrade(engine: Engine, revision: str) -> None:
    with engine.connect() as connection:
        config = migrate.alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def test_0016_counts_the_existing_sessions_and_keeps_counting_new_ones(unmigrated_url: str) -> None:
    migrate.upgrade(unmigrated_url, "0015")
    database = open_database(unmigrated_url, pool_size=1)
    try:
        with session_scope(database.writer) as db:
            org = tenancy.get_or_create_organization(db, name="populated").id
            for n in range(12):
                agent = ("Ava", "Bob", None)[n % 3]
                make_session(db, org, AT + n * timedelta(hours=7), agent_name=agent, prompt_id=str(n % 2))
        migrate.upgrade(unmigrated_url)
        migrate.check(unmigrated_url)
        assert_counts_exact(database, org)
        with session_scope(database.writer) as db:
            make_session(db, org, AT, agent_name="Ava", prompt_id="0")
        assert_counts_exact(database, org)
        _downgrade(database.engine, "0015")
        assert "session_count" not in inspect(database.engine).get_table_names()
        with session_scope(database.writer) as db:  # no trigger left writing to a table that is gone
            make_session(db, org, AT, agent_name="Cy")
        migrate.upgrade(unmigrated_url)
        assert_counts_exact(database, org)
    finally:
        database.dispose()
