"""Native batch ingest: store new events once, create or update their sessions, all in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session as DBSession

from sessionary.conversations import service as conversations
from sessionary.db import insert_for
from sessionary.db_types import utcnow
from sessionary.ingest.models import Event
from sessionary.ingest.projection import apply_events
from sessionary.ingest.schemas import EventIn, IngestResult, event_data
from sessionary.sessions.models import Session

SessionKey = tuple[str, str]
_KEY_CHUNK = 400  # session keys per IN (...) query: well under every database's parameter limit


def ingest_events(db: DBSession, *, organization_id: int, events: Sequence[EventIn]) -> IngestResult:
    """Store the events not stored before and fold them into their sessions; duplicates are counted."""
    unique = list({event.event_id: event for event in reversed(events)}.values())[::-1]
    sessions = _lock_sessions(db, organization_id=organization_id, events=unique)
    stored = _insert_events(db, organization_id=organization_id, events=unique, sessions=sessions)
    fresh: dict[SessionKey, list[EventIn]] = {}
    for event in unique:
        if event.event_id in stored:
            fresh.setdefault(_key(event), []).append(event)
    for key, new_events in fresh.items():
        apply_events(sessions[key], new_events)
    db.flush()
    conversations.ensure_for_sessions(db, organization_id=organization_id, sessions=_touched(sessions, fresh))
    inserted = sum(len(batch) for batch in fresh.values())
    return IngestResult(inserted=inserted, duplicates=len(events) - inserted)


def _key(event: EventIn) -> SessionKey:
    return (event.channel_manager_service, event.channel_manager_sid)


def _touched(sessions: dict[SessionKey, Session], fresh: Iterable[SessionKey]) -> list[Session]:
    return [sessions[key] for key in fresh]


def _lock_sessions(
    db: DBSession, *, organization_id: int, events: Sequence[EventIn]
) -> dict[SessionKey, Session]:
    """Create the sessions that do not exist yet, then load all of them locked (sorted: no deadlocks)."""
    first_seen: dict[SessionKey, datetime] = {}
    for event in events:
        key = _key(event)
        if key not in first_seen or event.timestamp < first_seen[key]:
            first_seen[key] = event.timestamp
    keys = sorted(first_seen)
    if not keys:
        return {}
    now = utcnow()
    placeholders = [_placeholder(organization_id, key, first_seen[key], now) for key in keys]
    table = Session.__table__
    db.execute(
        insert_for(db, table).on_conflict_do_nothing(
            index_elements=["organization_id", "channel_manager_service", "channel_manager_sid"]
        ),
        placeholders,
    )
    found: dict[SessionKey, Session] = {}
    for start in range(0, len(keys), _KEY_CHUNK):
        found.update(_select_locked(db, organization_id, keys[start : start + _KEY_CHUNK]))
    return found


def _placeholder(organization_id: int, key: SessionKey, ts: datetime, now: datetime) -> dict[str, object]:
    return {
        "organization_id": organization_id,
        "channel_manager_service": key[0],
        "channel_manager_sid": key[1],
        "session_type": "other",
        "timestamp": ts,
        "first_event_at": ts,
        "last_event_at": ts,
        "event_count": 0,
        "field_versions": {},
        "updated_at": now,
    }


def _select_locked(db: DBSession, organization_id: int, keys: list[SessionKey]) -> dict[SessionKey, Session]:
    pair = tuple_(Session.channel_manager_service, Session.channel_manager_sid)
    stmt = (
        select(Session)
        .where(Session.organization_id == organization_id, pair.in_(keys))
        .order_by(Session.channel_manager_service, Session.channel_manager_sid)
        .with_for_update()
    )
    return {(s.channel_manager_service, s.channel_manager_sid): s for s in db.scalars(stmt)}


def _insert_events(
    db: DBSession, *, organization_id: int, events: Sequence[EventIn], sessions: dict[SessionKey, Session]
) -> set[str]:
    """Insert the events; returns the event_ids actually stored (the others were there already)."""
    if not events:
        return set()
    now = utcnow()
    rows = [
        {
            "organization_id": organization_id,
            "event_id": event.event_id,
            "session_id": sessions[_key(event)].id,
            "type": event.type,
            "timestamp": event.timestamp,
            "data": event_data(event),
            "received_at": now,
        }
        for event in events
    ]
    table = Event.__table__
    stmt = (
        insert_for(db, table)
        .on_conflict_do_nothing(index_elements=["organization_id", "event_id"])
        .returning(table.c.event_id)
    )
    return set(db.scalars(stmt, rows))
