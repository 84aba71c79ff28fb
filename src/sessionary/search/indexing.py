"""Keeping the SQLite index current: each ingest batch adds its new turns in its own transaction.

PostgreSQL needs nothing (its index is a generated column). On SQLite the turns go into the FTS5 table
under their `event` row ids, with the texts the batch carries: a third of the cost of INSERT ... SELECT
json_extract(...), and far cheaper than an INSERT trigger (FTS5 flushes its pending terms at every
trigger statement). The search benchmark indexes its bulk-loaded turns through `index_turns` too.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session as DBSession

from sessionary.eventlog.batch import StoredBatch
from sessionary.eventlog.schemas import TranscriptEvent
from sessionary.fastsql import FastSQL, is_sqlite
from sessionary.search import models

# A turn to index: its event_id, its row id when known (None: looked up by event_id), and its text.
Turn = tuple[str, int | None, str]

# The row ids of turns the caller could not name, by their (organization_id, event_id) key: one statement.
_FIND_IDS = (
    "SELECT event_id, id FROM event WHERE organization_id = ? "
    "AND event_id IN (SELECT value FROM json_each(?j))"
)
_INSERT = f"INSERT INTO {models.FTS_TABLE}(rowid, text) VALUES (?, ?)"


def derive_from_ingest(db: DBSession, stored: StoredBatch) -> None:
    """The ingest's derivation: index the transcript turns among the batch's new events (only those this
    transaction stored, so nothing is indexed twice)."""
    if not is_sqlite(db):
        return
    turns = [
        (item.event.event_id, item.row_id, item.event.data.text)
        for item in stored.events
        if isinstance(item.event, TranscriptEvent)
    ]
    index_turns(FastSQL(db), organization_id=stored.organization_id, turns=turns)


def index_turns(sql: FastSQL, *, organization_id: int, turns: Iterable[Turn]) -> None:
    """SQLite: add these just stored turns of the organization to the FTS5 table, in one executemany."""
    rows: list[tuple[int, str]] = []
    unknown: dict[str, str] = {}  # event_id -> text of the turns whose row id is not known
    for event_id, row_id, text in turns:
        if row_id is None:
            unknown[event_id] = text
        else:
            rows.append((row_id, text))
    if unknown:
        found = sql.execute(_FIND_IDS, (organization_id, sql.json(list(unknown))))
        rows.extend((row_id, unknown[event_id]) for event_id, row_id in found)
    sql.executemany(_INSERT, rows)
