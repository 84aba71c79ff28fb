"""Keeping the SQLite index current: the ingest adds each batch's new turns in its own transaction."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.schemas import EventIn, TranscriptEvent
from sessionary.search import models

# Public: the search benchmark indexes its bulk-loaded turns with these, exactly as the ingest does.
# The new rows' ids, by their (organization_id, event_id) key, in one statement per batch ...
FIND_IDS_SQL = (
    "SELECT event_id, id FROM event WHERE organization_id = ? "
    "AND event_id IN (SELECT value FROM json_each(?))"
)
# ... then the texts, as the batch has them: a third of the cost of INSERT ... SELECT json_extract(...),
# and far cheaper than an INSERT trigger (FTS5 flushes its pending terms at every trigger statement).
INSERT_SQL = f"INSERT INTO {models.FTS_TABLE}(rowid, text) VALUES (?, ?)"


def add_turns(db: DBSession, *, organization_id: int, events: Sequence[tuple[EventIn, int | None]]) -> None:
    """Index the transcript turns among `events` (each with its row id when the ingest knows it), which
    this transaction has just stored (duplicates that were not stored are not passed in, so nothing is
    indexed twice). PostgreSQL needs nothing: its index is a generated column."""
    if db.get_bind().dialect.name != "sqlite":
        return
    rows: list[tuple[int, str]] = []
    texts: dict[str, str] = {}  # turns whose id is not known: looked up in one statement
    for event, row_id in events:
        if isinstance(event, TranscriptEvent):
            if row_id is None:
                texts[event.event_id] = event.data.text
            else:
                rows.append((row_id, event.data.text))
    connection = db.connection()
    if texts:
        found = connection.exec_driver_sql(
            FIND_IDS_SQL, (organization_id, orjson.dumps(list(texts)).decode())
        )
        rows.extend((row_id, texts[event_id]) for event_id, row_id in found)
    if rows:
        connection.exec_driver_sql(INSERT_SQL, rows)
