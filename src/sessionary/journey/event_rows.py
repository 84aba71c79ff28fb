"""The journey event insert, straight to the driver's executemany (as ingest/event_rows.py does for native
events): SQLAlchemy's per-row parameter processing cost more than the insert itself on large imports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import sqlite_text

_COLUMNS = (
    "id, organization_id, deployment_id, customer_id, kind, event_name, created_date, received_at, payload"
)
_INSERT = f"INSERT INTO journey_event ({_COLUMNS}) VALUES "
_SQL = {
    "sqlite": _INSERT + "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "postgresql": _INSERT + "(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
}


def insert(
    db: DBSession, rows: Sequence[tuple[str, int, str, int, str, str, datetime, datetime, dict[str, Any]]]
) -> None:
    """Insert journey events given as (id, organization, deployment, customer, kind, name, created,
    received, payload) tuples."""
    connection = db.connection()
    dialect = connection.dialect.name
    when = sqlite_text if dialect == "sqlite" else (lambda value: value)
    prepared = [(*row[:6], when(row[6]), when(row[7]), orjson.dumps(row[8]).decode()) for row in rows]
    connection.exec_driver_sql(_SQL[dialect], prepared)
