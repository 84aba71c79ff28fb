"""Alembic environment: runs against the connection handed over by sessionary.migrate."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import text

from sessionary import models  # noqa: F401  (registers every table on Base.metadata)
from sessionary.db import Base
from sessionary.db_sqlite import ID_HIGH_WATER
from sessionary.search import models as search_index

config = context.config
connection = config.attributes["connection"]
# Several servers may start at once against one PostgreSQL: let one migrate at a time.
_LOCK_ID = 0x5E5510


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Leave out the objects the models do not describe: the FTS5 table and its shadow tables, and SQLite's
    table of deleted ids (db_sqlite.ID_HIGH_WATER)."""
    if type_ == "table" and name == ID_HIGH_WATER:
        return False
    return not search_index.is_unmanaged(name, type_)


def include_object(_object: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """... and the PostgreSQL search column and its index, which only the database has."""
    return not (reflected and compare_to is None and search_index.is_unmanaged(name, type_))


def run() -> None:
    if connection.dialect.name == "postgresql":
        # Held until the caller commits the migration transaction.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
