"""Notable events: written from the newly stored ingest events (one INSERT per batch), and listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.orm import Session as DBSession

from sessionary import listing
from sessionary.db_types import sqlite_text
from sessionary.eventlog.schemas import EventIn
from sessionary.listing import Column, Kind, ListParams, Page
from sessionary.notable import mapping
from sessionary.notable import rows as notable_rows
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
# The mapped values in the order of events/rows.py (attributes, JSON, last).
_MAPPED = ("source", "source_id", "category", "type", "user_id", "description")
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


def record(
    db: DBSession,
    *,
    organization_id: int,
    sessions: Mapping[Any, Mapping[str, Any]],
    fresh: Mapping[Any, Sequence[EventIn]],
) -> None:
    """Store the notable events among `fresh` (key -> events stored by this transaction): one INSERT."""
    sqlite = db.get_bind().dialect.name == "sqlite"
    rows: list[tuple[Any, ...]] = []
    for key, events in fresh.items():
        session_id = sessions[key]["id"]
        for event in events:
            if event.type not in mapping.NOTABLE_TYPES:
                continue
            found = mapping.notable(event)
            if found is not None:
                attributes = found["attributes"]
                rows.append(
                    (
                        organization_id,
                        event.event_id,
                        session_id,
                        sqlite_text(event.timestamp) if sqlite else event.timestamp,
                        *(found[name] for name in _MAPPED),
                        None if attributes is None else orjson.dumps(attributes).decode(),
                    )
                )
    if rows:
        notable_rows.insert(db, rows)


_LISTING = listing.Listing(NotableEvent, NotableEvent.organization_id, COLUMNS, _ID)


def list_events(db: DBSession, *, organization_id: int, params: ListParams) -> Page[NotableEvent]:
    """One page of the organization's notable events, filtered and ordered as `params` say (newest first)."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def to_read(event: NotableEvent, fields: list[str] | None = None) -> EventRead:
    """The wire form; with `fields`, only those (and always `timestamp`) are sent."""
    values: dict[str, Any] = {name: getattr(event, name) for name in _FIELDS}
    values.update(timestamp=event.timestamp, session_id=str(event.session_id))
    return listing.wire_form(EventRead, values, fields, {"timestamp"})
