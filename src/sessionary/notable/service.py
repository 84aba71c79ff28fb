"""Notable events: derived from the events each ingest batch stored (one INSERT per batch), and listed."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session as DBSession

from sessionary import listing
from sessionary.eventlog.batch import StoredBatch
from sessionary.eventlog.schemas import EventIn
from sessionary.fastsql import FastSQL
from sessionary.listing import Column, Kind, ListParams, Page
from sessionary.notable import mapping
from sessionary.notable.mapping import Notable
from sessionary.notable.models import NotableEvent
from sessionary.notable.schemas import EventProperties, EventRead

_STRINGS = ("conversation_id", "source", "source_id", "category", "type", "user_id", "description")
COLUMNS: dict[str, Column] = {
    "timestamp": Column(NotableEvent.timestamp, Kind.DATETIME),
    "session_id": Column(NotableEvent.session_id, Kind.INTEGER),
    "attributes": Column(NotableEvent.attributes, Kind.JSON_TEXT),
    **{name: Column(getattr(NotableEvent, name), Kind.STRING) for name in _STRINGS},
}
assert set(COLUMNS) == {p.value for p in EventProperties}, "every EventProperties value needs a column"
_ID = Column(NotableEvent.id, Kind.INTEGER)
# The mapped values in the order of _INSERT (attributes, JSON, last).
_MAPPED = ("source", "source_id", "category", "type", "user_id", "description")
# One fastsql insert_select (SQLAlchemy's per-row parameter handling would cost more than the insert
# itself); at most one notable event per ingest event.
_TABLE = cast(Table, NotableEvent.__table__)
_COLUMNS = [
    _TABLE.c[name]
    for name in ("organization_id", "event_id", "session_id", "timestamp", *_MAPPED, "attributes")
]
_SKIP_STORED = " ON CONFLICT (organization_id, event_id) DO NOTHING"
_FIELDS = (
    "conversation_id",
    "source",
    "source_id",
    "category",
    "type",
    "user_id",
    "description",
    "attributes",
)


def derive_from_ingest(db: DBSession, stored: StoredBatch) -> None:
    """The ingest's derivation: store the notable events among the batch's new events, in one statement."""
    sql = FastSQL(db)
    rows: list[tuple[Any, ...]] = []
    for session in stored.sessions:
        for event in session.events:
            if event.type in mapping.NOTABLE_TYPES:
                found = mapping.notable(event)
                if found is not None:
                    rows.append(_row(sql, stored.organization_id, session.id, event, found))
    sql.insert_select("INSERT INTO notable_event", _COLUMNS, rows, _SKIP_STORED)


def _row(
    sql: FastSQL, organization_id: int, session_id: int, event: EventIn, found: Notable
) -> tuple[Any, ...]:
    """The notable_event row, in the order of `_INSERT`."""
    attributes = found["attributes"]
    return (
        organization_id,
        event.event_id,
        session_id,
        sql.when(event.timestamp),
        *(found[name] for name in _MAPPED),
        None if attributes is None else sql.json(attributes),
    )


_LISTING = listing.Listing(NotableEvent, NotableEvent.organization_id, COLUMNS, _ID)


def list_events(db: DBSession, *, organization_id: int, params: ListParams) -> Page[NotableEvent]:
    """One page of the organization's notable events, filtered and ordered as `params` say (newest first)."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def to_read(event: NotableEvent, fields: list[str] | None = None) -> EventRead:
    """The wire form; with `fields`, only those (and always `timestamp`) are sent."""
    values: dict[str, Any] = {name: getattr(event, name) for name in _FIELDS}
    values.update(timestamp=event.timestamp, session_id=str(event.session_id))
    return listing.wire_form(EventRead, values, fields, {"timestamp"})
