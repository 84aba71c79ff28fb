"""The event insert of the ingest hot path, one of the driver-level statements of the code base.

SQLAlchemy's per-row parameter processing costs more than the database's own insert at 5,000 rows per
request, so prepared tuples go straight to the driver's executemany. Values are already in the driver's
form: timestamps as SQLite text or aware datetimes, `data` as a JSON string. On SQLite each row also
carries its id first (allocated by the ingest under the write lock, so the transcript index needs no
look-up of the new rows' ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session as DBSession

_COLUMNS = "organization_id, event_id, session_id, type, timestamp, data, received_at"
_CONFLICT = "ON CONFLICT (organization_id, event_id) DO NOTHING"
_SQL = {
    "sqlite": f"INSERT INTO event (id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) {_CONFLICT}",
    "postgresql": f"INSERT INTO event ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s) {_CONFLICT}",
}


def next_ids(db: DBSession) -> int:
    """SQLite: the first free event id, as SQLite itself would allocate it (the largest id plus one).
    Only a transaction holding the write lock (BEGIN IMMEDIATE) may use it: no one else inserts meanwhile."""
    found = db.connection().exec_driver_sql("SELECT max(id) FROM event").scalar()
    return int(found or 0) + 1


def insert(db: DBSession, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert prepared event rows; returns how many were inserted, or -1 when the driver cannot tell."""
    connection = db.connection()
    dialect = connection.dialect
    result = connection.exec_driver_sql(_SQL[dialect.name], list(rows))
    return result.rowcount if dialect.supports_sane_multi_rowcount else -1
