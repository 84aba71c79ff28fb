"""Alembic environment: runs against the connection handed over by sessionary.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from sessionary import models  # noqa: F401  (registers every table on Base.metadata)
from sessionary.db import Base

config = context.config
connection = config.attributes["connection"]
# Several servers may start at once against one PostgreSQL: let one migrate at a time.
_LOCK_ID = 0x5E5510


def run() -> None:
    if connection.dialect.name == "postgresql":
        # Held until the caller commits the migration transaction.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
