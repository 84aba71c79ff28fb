"""The notable-event insert of the ingest hot path, on the driver's own executemany (as ingest/event_rows.py):
SQLAlchemy's per-row parameter processing would cost more than the insert itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session as DBSession

_COLUMNS = (
    "organization_id, event_id, session_id, timestamp, source, source_id, category, type, user_id, "
    "description, attributes"
)
_CONFLICT = "ON CONFLICT (organization_id, event_id) DO NOTHING"
_SQL = {
    "sqlite": f"INSERT INTO notable_event ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {_CONFLICT}",
    "postgresql": f"INSERT INTO notable_event ({_COLUMNS}) "
    f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) {_CONFLICT}",
}


def insert(db: DBSession, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert prepared rows: timestamps in the driver's form, attributes as JSON text (or None)."""
    connection = db.connection()
    connection.exec_driver_sql(_SQL[connection.dialect.name], list(rows))
