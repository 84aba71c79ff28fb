"""Native batch ingest: store new events once, create or update their sessions, all in one transaction.

This is the hot path, so it stays on SQLAlchemy Core (no ORM identity map or unit of work), prepares every
row before the first write (SQLite's write lock is held as briefly as possible), and hands the event rows
to the driver's own executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.db_types import sqlite_text, utcnow
from sessionary.eventlog.batch import SessionChange, StoredBatch, StoredEvent
from sessionary.eventlog.models import Event
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import derivations, event_rows
from sessionary.ingest.projection import READ_COLUMNS, State, apply_events
from sessionary.ingest.schemas import IngestResult
from sessionary.sessions.models import Session

SessionKey = tuple[str, str]
_CHUNK = 400  # keys per IN (...) query: well under every database's parameter limit
_SESSIONS = cast(Table, Session.__table__)
_LOCKED_COLUMNS = [_SESSIONS.c[name] for name in ("id", "channel_manager_service", "channel_manager_sid")] + [
    _SESSIONS.c[name] for name in READ_COLUMNS
]


@dataclass
class _Pending:
    """An event of the batch, prepared before any write lock is taken."""

    event: EventIn
    key: SessionKey
    data_json: str
    timestamp: Any  # in the driver's form (see event_rows)
    row_id: int | None = None  # SQLite: the id this transaction gave the event's row, once known stored


def ingest_events(db: DBSession, *, organization_id: int, events: Sequence[EventIn]) -> IngestResult:
    """Store the events not stored before and fold them into their sessions; duplicates are counted."""
    pending = _prepare(events, sqlite=db.get_bind().dialect.name == "sqlite")
    sessions = _lock_sessions(db, organization_id=organization_id, pending=pending)
    stored = _insert_new(db, organization_id=organization_id, pending=pending, sessions=sessions)
    fresh: dict[SessionKey, list[EventIn]] = {}
    for item in stored:
        fresh.setdefault(item.key, []).append(item.event)
    previous = {key: state["conversation_id"] for key, state in sessions.items()}
    changes = {key: apply_events(sessions[key], new_events) for key, new_events in fresh.items()}
    changes = {key: change for key, change in changes.items() if change}
    _write_sessions(db, sessions=sessions, changes=changes)
    _derive(
        db, organization_id, stored=stored, fresh=fresh, sessions=sessions, changes=changes, previous=previous
    )
    return IngestResult(inserted=len(stored), duplicates=len(events) - len(stored))


def _derive(
    db: DBSession,
    organization_id: int,
    *,
    stored: list[_Pending],
    fresh: dict[SessionKey, list[EventIn]],
    sessions: dict[SessionKey, State],
    changes: dict[SessionKey, State],
    previous: dict[SessionKey, str | None],
) -> None:
    """Hand what the transaction stored to the registered derivations (ingest/derivations.py), as one
    typed value: its events, and each session that got new ones, as it is now and as the batch changed it."""
    batch = StoredBatch(
        organization_id=organization_id,
        events=tuple(StoredEvent(item.event, item.row_id) for item in stored),
        sessions=tuple(
            SessionChange(
                key=key,
                id=sessions[key]["id"],
                conversation_id=sessions[key]["conversation_id"],
                previous_conversation_id=previous[key],
                timestamp=sessions[key]["timestamp"],
                ended_at=sessions[key]["ended_at"],
                changed=frozenset(changes.get(key, ())),
                events=tuple(events),
            )
            for key, events in fresh.items()
        ),
    )
    derivations.run(db, batch)


def _prepare(events: Sequence[EventIn], *, sqlite: bool) -> list[_Pending]:
    """One pending event per distinct event_id (the first occurrence in the batch wins)."""
    seen: dict[str, _Pending] = {}
    for event in events:
        if event.event_id not in seen:
            key = (event.channel_manager_service, event.channel_manager_sid)
            data = event.data.model_dump_json(exclude_unset=True)
            timestamp = sqlite_text(event.timestamp) if sqlite else event.timestamp
            seen[event.event_id] = _Pending(event, key, data, timestamp)
    return list(seen.values())


def _lock_sessions(
    db: DBSession, *, organization_id: int, pending: Sequence[_Pending]
) -> dict[SessionKey, State]:
    """Lock the batch's sessions (in key order: no deadlocks), creating the missing ones first."""
    first_seen: dict[SessionKey, datetime] = {}
    for item in pending:
        ts = item.event.timestamp
        if item.key not in first_seen or ts < first_seen[item.key]:
            first_seen[item.key] = ts
    keys = sorted(first_seen)
    found = _select_locked(db, organization_id, keys)
    missing = [key for key in keys if key not in found]
    if missing:
        now = utcnow()
        db.execute(
            insert_for(db, _SESSIONS).on_conflict_do_nothing(
                index_elements=["organization_id", "channel_manager_service", "channel_manager_sid"]
            ),
            [_placeholder(organization_id, key, first_seen[key], now) for key in missing],
        )
        found.update(_select_locked(db, organization_id, missing))
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


def _select_locked(db: DBSession, organization_id: int, keys: list[SessionKey]) -> dict[SessionKey, State]:
    found: dict[SessionKey, State] = {}
    for condition in _key_conditions(db, keys):
        stmt = (
            select(*_LOCKED_COLUMNS)
            .where(_SESSIONS.c.organization_id == organization_id, condition)
            .order_by(_SESSIONS.c.channel_manager_service, _SESSIONS.c.channel_manager_sid)
            .with_for_update()
        )
        for row in db.execute(stmt).mappings():
            found[(row["channel_manager_service"], row["channel_manager_sid"])] = dict(row)
    return found


def _key_conditions(db: DBSession, keys: list[SessionKey]) -> list[ColumnElement[bool]]:
    """`(service, sid) IN keys`, as few statements as the database plans cheaply.

    PostgreSQL plans a long row-value IN list one index probe per pair (36 ms of planning for 400 pairs
    against 5 ms of execution), so there the keys go in as two arrays joined by unnest: one statement for
    the batch. SQLite takes the row values directly, in chunks under its parameter limit.
    """
    pair = tuple_(_SESSIONS.c.channel_manager_service, _SESSIONS.c.channel_manager_sid)
    if db.get_bind().dialect.name == "postgresql":
        services = bindparam("services", [k[0] for k in keys], type_=ARRAY(String))
        sids = bindparam("sids", [k[1] for k in keys], type_=ARRAY(String))
        wanted = func.unnest(services, sids).table_valued("service", "sid").render_derived()
        return [pair.in_(select(wanted.c.service, wanted.c.sid))]
    return [pair.in_(keys[start : start + _CHUNK]) for start in range(0, len(keys), _CHUNK)]


def _write_sessions(
    db: DBSession, *, sessions: dict[SessionKey, State], changes: dict[SessionKey, State]
) -> None:
    """UPDATE the changed columns, one executemany per set of changed columns.

    The statements are compiled once per set of columns, and the values go through the columns' own bind
    processors straight to the driver's executemany: SQLAlchemy's per-row parameter handling cost more
    than the UPDATEs themselves."""
    connection = db.connection()
    dialect = connection.dialect
    now = utcnow()
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for key, change in changes.items():
        names = tuple(sorted(change))
        groups.setdefault(names, []).append((*(change[name] for name in names), sessions[key]["id"], now))
    for names, rows in groups.items():
        sql, order, (wanted, procs) = _update_for(dialect, names)
        if order is None:  # named parameters (psycopg)
            params: list[Any] = [
                {name: (p(v) if p else v) for name, p, v in zip(wanted, procs, row, strict=True)}
                for row in rows
            ]
        else:
            params = [
                tuple(p(row[i]) if p else row[i] for i, p in zip(order, procs, strict=True)) for row in rows
            ]
        connection.exec_driver_sql(sql, params)


_Processors = tuple[tuple[str, ...], tuple[Any, ...]]
_UPDATES: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[int, ...] | None, _Processors]] = {}


def _update_for(dialect: Any, names: tuple[str, ...]) -> tuple[str, tuple[int, ...] | None, _Processors]:
    """The UPDATE of these columns for `dialect`, compiled once: its SQL, the order of the row values in
    its positional parameters (None: named), and each parameter's name and bind processor."""
    key = (dialect.name, names)
    found = _UPDATES.get(key)
    if found is None:
        columns = (*names, "id", "updated_at")
        binds = {name: bindparam(f"p_{name}", type_=_SESSIONS.c[name].type) for name in columns}
        values = {name: binds[name] for name in (*names, "updated_at")}
        stmt = update(_SESSIONS).where(_SESSIONS.c.id == binds["id"]).values(**values)
        compiled = stmt.compile(dialect=dialect)
        index = {f"p_{name}": i for i, name in enumerate(columns)}
        if compiled.positional:
            wanted = tuple(compiled.positiontup or ())
            order: tuple[int, ...] | None = tuple(index[name] for name in wanted)
        else:
            wanted, order = tuple(index), None
        procs = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in wanted
        )
        found = (str(compiled), order, (wanted, procs))
        _UPDATES[key] = found
    return found


def _insert_new(
    db: DBSession, *, organization_id: int, pending: Sequence[_Pending], sessions: dict[SessionKey, State]
) -> list[_Pending]:
    """Insert the events not stored yet; returns those this transaction stored.

    Optimistic first: most batches are all new, and one INSERT whose rowcount matches proves it. Otherwise
    the attempt is rolled back to its savepoint and the known ids are looked up first. Every session of the
    batch is locked already, so no concurrent writer can store an event of these sessions meanwhile and the
    look-up is exact; ON CONFLICT DO NOTHING (checked by rowcount) covers the one case it cannot see, an
    event_id reused by a producer for another session at the same moment.
    """
    if not pending:
        return []
    attempt = db.begin_nested()
    if event_rows.insert(db, _rows(db, organization_id, pending, sessions)) == len(pending):
        attempt.commit()
        return list(pending)
    attempt.rollback()
    existing = _existing_ids(db, organization_id, [item.event.event_id for item in pending])
    new = [item for item in pending if item.event.event_id not in existing]
    if not new:
        return []
    if event_rows.insert(db, _rows(db, organization_id, new, sessions)) == len(new):
        return new
    stored = _stored_by_us(db, organization_id, new, sessions)
    for item in stored:
        item.row_id = None  # not proven ours: the search index looks the id up
    return stored


def _rows(
    db: DBSession, organization_id: int, pending: Sequence[_Pending], sessions: dict[SessionKey, State]
) -> list[tuple[Any, ...]]:
    """Event rows in the driver's own value forms (see event_rows); on SQLite with their ids first."""
    sqlite = db.get_bind().dialect.name == "sqlite"
    now: Any = sqlite_text(utcnow()) if sqlite else utcnow()
    if sqlite:
        first = event_rows.next_ids(db)
        rows: list[tuple[Any, ...]] = []
        for offset, item in enumerate(pending):
            item.row_id = first + offset
            event = item.event
            rows.append(
                (item.row_id, organization_id, event.event_id, sessions[item.key]["id"], event.type)
                + (item.timestamp, item.data_json, now)
            )
        return rows
    return [
        (
            organization_id,
            item.event.event_id,
            sessions[item.key]["id"],
            item.event.type,
            item.timestamp,
            item.data_json,
            now,
        )
        for item in pending
    ]


def _existing_ids(db: DBSession, organization_id: int, event_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(event_ids), _CHUNK):
        chunk = event_ids[start : start + _CHUNK]
        stmt = select(Event.event_id).where(
            Event.organization_id == organization_id, Event.event_id.in_(chunk)
        )
        found.update(db.scalars(stmt))
    return found


def _stored_by_us(
    db: DBSession, organization_id: int, new: list[_Pending], sessions: dict[SessionKey, State]
) -> list[_Pending]:
    """The events of `new` whose stored row points at the session we meant (a lost race points elsewhere)."""
    stored: dict[str, int] = {}
    ids = [item.event.event_id for item in new]
    for start in range(0, len(ids), _CHUNK):
        stmt = select(Event.event_id, Event.session_id).where(
            Event.organization_id == organization_id, Event.event_id.in_(ids[start : start + _CHUNK])
        )
        stored.update({event_id: session_id for event_id, session_id in db.execute(stmt)})
    return [item for item in new if stored.get(item.event.event_id) == sessions[item.key]["id"]]
