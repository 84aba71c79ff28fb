"""The journey event insert, straight to the driver's executemany (journey.rawsql; as ingest/event_rows.py
does for native events): SQLAlchemy's per-row parameter processing cost more than the insert itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.journey.rawsql import Raw

_COLUMNS = (
    "id, organization_id, deployment_id, customer_id, kind, event_name, created_date, received_at, payload"
)
_SQL = f"INSERT INTO journey_event ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?j)"


def insert(
    db: DBSession, rows: Sequence[tuple[str, int, str, int, str, str, datetime, datetime, dict[str, Any]]]
) -> None:
    """Insert journey events given as (id, organization, deployment, customer, kind, name, created,
    received, payload) tuples."""
    raw = Raw(db)
    prepared = [(*row[:6], raw.when(row[6]), raw.when(row[7]), raw.json(row[8])) for row in rows]
    raw.executemany(_SQL, prepared)
