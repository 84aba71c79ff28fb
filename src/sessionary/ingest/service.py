"""Native batch ingest: store new events once, create or update their sessions, all in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
_CHUNK = 400  # keys per IN (...) query: well under every database's parameter limit


@dataclass
class _Pending:
    """An event of the batch, with its row prepared before any write lock is taken."""

    event: EventIn
    key: SessionKey
    row: dict[str, Any]


def ingest_events(db: DBSession, *, organization_id: int, events: Sequence[EventIn]) -> IngestResult:
    """Store the events not stored before and fold them into their sessions; duplicates are counted."""
    pending = _prepare(organization_id, events)
    sessions = _lock_sessions(db, organization_id=organization_id, pending=pending)
    stored = _insert_new(db, organization_id=organization_id, pending=pending, sessions=sessions)
    fresh: dict[SessionKey, list[EventIn]] = {}
    for item in stored:
        fresh.setdefault(item.key, []).append(item.event)
    for key, new_events in fresh.items():
        apply_events(sessions[key], new_events)
    db.flush()
    touched = [sessions[key] for key in fresh]
    conversations.ensure_for_sessions(db, organization_id=organization_id, sessions=touched)
    return IngestResult(inserted=len(stored), duplicates=len(events) - len(stored))


def _prepare(organization_id: int, events: Sequence[EventIn]) -> list[_Pending]:
    """One pending row per distinct event_id (the first occurrence in the batch wins)."""
    now = utcnow()
    seen: dict[str, _Pending] = {}
    for event in events:
        if event.event_id in seen:
            continue
        row = {
            "organization_id": organization_id,
            "event_id": event.event_id,
            "type": event.type,
            "timestamp": event.timestamp,
            "data": event_data(event),
            "received_at": now,
        }
        seen[event.event_id] = _Pending(
            event, (event.channel_manager_service, event.channel_manager_sid), row
        )
    return list(seen.values())


def _lock_sessions(
    db: DBSession, *, organization_id: int, pending: Sequence[_Pending]
) -> dict[SessionKey, Session]:
    """Create the sessions that do not exist yet, then load all of them locked (sorted: no deadlocks)."""
    first_seen: dict[SessionKey, datetime] = {}
    for item in pending:
        ts = item.event.timestamp
        if item.key not in first_seen or ts < first_seen[item.key]:
            first_seen[item.key] = ts
    keys = sorted(first_seen)
    if not keys:
        return {}
    now = utcnow()
    table = Session.__table__
    db.execute(
        insert_for(db, table).on_conflict_do_nothing(
            index_elements=["organization_id", "channel_manager_service", "channel_manager_sid"]
        ),
        [_placeholder(organization_id, key, first_seen[key], now) for key in keys],
    )
    found: dict[SessionKey, Session] = {}
    for start in range(0, len(keys), _CHUNK):
        found.update(_select_locked(db, organization_id, keys[start : start + _CHUNK]))
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


def _insert_new(
    db: DBSession, *, organization_id: int, pending: Sequence[_Pending], sessions: dict[SessionKey, Session]
) -> list[_Pending]:
    """Insert the events not stored yet; returns those this transaction stored.

    Every session the batch touches is locked already, so no concurrent writer can store an event of these
    sessions meanwhile: the pre-select is exact. ON CONFLICT DO NOTHING (checked by rowcount) covers the one
    case it cannot see, an event_id reused by a producer for another session at the same moment.
    """
    existing = _existing_ids(db, organization_id, [item.row["event_id"] for item in pending])
    new = [item for item in pending if item.row["event_id"] not in existing]
    if not new:
        return []
    for item in new:
        item.row["session_id"] = sessions[item.key].id
    table = Event.__table__
    stmt = insert_for(db, table).on_conflict_do_nothing(index_elements=["organization_id", "event_id"])
    result = db.connection().execute(stmt, [item.row for item in new])
    if result.rowcount == len(new) and db.get_bind().dialect.supports_sane_multi_rowcount:
        return new
    return _stored_by_us(db, organization_id, new)


def _existing_ids(db: DBSession, organization_id: int, event_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(event_ids), _CHUNK):
        chunk = event_ids[start : start + _CHUNK]
        stmt = select(Event.event_id).where(
            Event.organization_id == organization_id, Event.event_id.in_(chunk)
        )
        found.update(db.scalars(stmt))
    return found


def _stored_by_us(db: DBSession, organization_id: int, new: list[_Pending]) -> list[_Pending]:
    """The events of `new` whose stored row points at the session we meant (a lost race points elsewhere)."""
    stored: dict[str, int] = {}
    ids = [item.row["event_id"] for item in new]
    for start in range(0, len(ids), _CHUNK):
        stmt = select(Event.event_id, Event.session_id).where(
            Event.organization_id == organization_id, Event.event_id.in_(ids[start : start + _CHUNK])
        )
        stored.update({event_id: session_id for event_id, session_id in db.execute(stmt)})
    return [item for item in new if stored.get(item.row["event_id"]) == item.row["session_id"]]
