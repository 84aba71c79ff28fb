"""The one writer of the `event` table: the native ingest's batch insert, and the look-ups it needs when a
batch holds events stored before.

The insert is one driver-level statement through fastsql (`insert_select`: an executemany on SQLite, one
INSERT ... SELECT FROM unnest() on PostgreSQL): at 5,000 rows per request SQLAlchemy's per-row
parameter processing cost more than the database's own insert. Rows come with their values in the
driver's form already (`NewEvent`), made before the transaction takes its write lock. On SQLite each row
gets its id up front (fastsql.allocate_ids), so the transcript index (an FTS5 table by row id) needs no
look-up of the new rows' ids; PostgreSQL's index is a column of the row, so there the rows take their ids
from the column's sequence as they go in (asking for them first cost a round trip and 5 us an event).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import utcnow
from sessionary.eventlog.models import Event
from sessionary.fastsql import FastSQL

_CHUNK = 400  # event ids per IN (...) query: well under every database's parameter limit
_TABLE = cast(Table, Event.__table__)
_COLUMNS = [
    _TABLE.c[name]
    for name in (
        "id",
        "organization_id",
        "event_id",
        "session_id",
        "type",
        "timestamp",
        "data",
        "received_at",
    )
]
_SKIP_STORED = " ON CONFLICT (organization_id, event_id) DO NOTHING"


# An event row to insert, its values as the driver takes them: (event_id, session_id, type, timestamp as
# fastsql.column_when gives it, the `data` object as JSON text). A plain tuple: a NamedTuple cost 2 ms
# more per 5,000 events.
NewEvent = tuple[str, int, str, Any, str]


def insert(
    db: DBSession, *, organization_id: int, events: Sequence[NewEvent]
) -> tuple[list[int] | None, int]:
    """Insert the events not stored yet (an event_id stored before is skipped: ON CONFLICT DO NOTHING).
    Returns the ids given to the rows, in order (SQLite; None on PostgreSQL: see above), and how many were
    inserted (-1: the driver cannot tell)."""
    if not events:
        return [], 0
    raw = FastSQL(db)
    received = raw.when(utcnow())
    if not raw.sqlite:
        unnumbered = [(organization_id, *event, received) for event in events]
        return None, raw.insert_select("INSERT INTO event", _COLUMNS[1:], unnumbered, _SKIP_STORED)
    ids = raw.allocate_ids("event", len(events))
    rows = [
        (row_id, organization_id, event_id, session_id, kind, timestamp, data, received)
        for row_id, (event_id, session_id, kind, timestamp, data) in zip(ids, events, strict=True)
    ]
    return ids, raw.insert_select("INSERT INTO event", _COLUMNS, rows, _SKIP_STORED)


def stored_event_ids(db: DBSession, *, organization_id: int, event_ids: Sequence[str]) -> set[str]:
    """Which of these event ids the organization has stored."""
    return set(stored_sessions(db, organization_id=organization_id, event_ids=event_ids))


def stored_sessions(db: DBSession, *, organization_id: int, event_ids: Sequence[str]) -> dict[str, int]:
    """The session of each of these events the organization has stored (event id -> session id)."""
    found: dict[str, int] = {}
    for start in range(0, len(event_ids), _CHUNK):
        stmt = select(Event.event_id, Event.session_id).where(
            Event.organization_id == organization_id, Event.event_id.in_(event_ids[start : start + _CHUNK])
        )
        found.update({event_id: session_id for event_id, session_id in db.execute(stmt)})
    return found
