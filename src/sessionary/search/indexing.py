"""Keeping the SQLite index current: the ingest adds each batch's new turns in its own transaction."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy.orm import Session as DBSession

from sessionary.ingest.schemas import EventIn
from sessionary.search import models

# One statement per batch, the turns found by their (organization_id, event_id) key. Public: the search
# benchmark indexes its bulk-loaded turns with it, exactly as the ingest does.
ADD_TURNS_SQL = (
    f"INSERT INTO {models.FTS_TABLE}(rowid, text) SELECT id, json_extract(data, '$.text') FROM event "
    "WHERE organization_id = ? AND event_id IN (SELECT value FROM json_each(?)) AND type = 'transcript'"
)


def add_turns(db: DBSession, *, organization_id: int, events: Sequence[EventIn]) -> None:
    """Index the transcript turns among `events`, which this transaction has just stored (duplicates that
    were not stored are not passed in, so nothing is indexed twice). PostgreSQL needs nothing: its index
    is a generated column."""
    if db.get_bind().dialect.name != "sqlite":
        return
    event_ids = [event.event_id for event in events if event.type == "transcript"]
    if event_ids:
        db.connection().exec_driver_sql(ADD_TURNS_SQL, (organization_id, orjson.dumps(event_ids).decode()))
