"""The schema comes from the migrations, and the models do not drift from them."""

from __future__ import annotations

from sqlalchemy import inspect

from sessionary import migrate
from sessionary.db import Database


def test_models_match_migrations(database_url: str) -> None:
    migrate.check(database_url)  # raises alembic.util.CommandError on drift


def test_migrations_build_every_table(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert {"organization", "api_key", "conversation", "session", "event", "alembic_version"} <= tables


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.check(database_url)
