"""Native batch ingest: store new events once, create or update their sessions, all in one transaction.

Ingest orchestrates; each table is written by its owner: the events by `eventlog.store`, the sessions by
`sessions.store` (both on fastsql, the driver-level layer of the hot paths), the derived rows by the
derivations. Every row is prepared before the first write (SQLite's write lock is held as briefly as
possible).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import utcnow
from sessionary.eventlog import store as events_store
from sessionary.eventlog.batch import SessionChange, StoredBatch, StoredEvent
from sessionary.eventlog.schemas import EventIn
from sessionary.fastsql import is_sqlite, when_encoder
from sessionary.ingest import derivations
from sessionary.ingest.projection import READ_COLUMNS, STATE_COLUMNS, State, apply_events
from sessionary.ingest.schemas import IngestResult
from sessionary.sessions import store as sessions_store

SessionKey = sessions_store.SessionKey


@dataclass(slots=True)
class _Pending:
    """An event of the batch, prepared before any write lock is taken."""

    event: EventIn
    key: SessionKey
    data_json: str
    timestamp: Any  # in the driver's form (fastsql.column_when)
    row_id: int | None = None  # the id this transaction gave the event's row, once known stored


# A session made whole from the batch's events alone, before it is known to be new: its state (no id yet)
# and the columns its events set (`_made`).
_Made = tuple[State, State]


@dataclass(frozen=True)
class Prepared:
    """A batch made ready for the write (`prepare`): the work that needs no database, done before any lock."""

    organization_id: int
    pending: list[_Pending]
    count: int  # events in the batch, repeats included
    batch: dict[SessionKey, list[_Pending]]  # the pending events by session, in the order first seen
    # The sessions the batch starts (a `session.started` among their events), made ahead: most are new,
    # and the write then only inserts them. Used once, by the one `ingest_prepared` of this batch.
    made: dict[SessionKey, _Made]


def prepare(events: Sequence[EventIn], *, sqlite: bool, organization_id: int) -> Prepared:
    """The batch's rows in the driver's form, and the sessions it starts made whole (a producer face may
    call this before its transaction begins, so that SQLite's write lock is held for the writes only)."""
    pending = _prepare(events, sqlite=sqlite)
    batch: dict[SessionKey, list[_Pending]] = {}
    for item in pending:
        batch.setdefault(item.key, []).append(item)
    made = {
        key: _made(organization_id, key, items)
        for key, items in batch.items()
        if any(item.event.type == "session.started" for item in items)
    }
    return Prepared(organization_id, pending, len(events), batch, made)


def ingest_events(db: DBSession, *, organization_id: int, events: Sequence[EventIn]) -> IngestResult:
    """Store the events not stored before and fold them into their sessions; duplicates are counted."""
    prepared = prepare(events, sqlite=is_sqlite(db), organization_id=organization_id)
    return ingest_prepared(db, organization_id=organization_id, prepared=prepared)


def ingest_prepared(db: DBSession, *, organization_id: int, prepared: Prepared) -> IngestResult:
    """`ingest_events` of a batch `prepare`d for this database and organization."""
    if prepared.organization_id != organization_id:
        raise ValueError("a batch prepared for another organization")
    pending, batch = prepared.pending, prepared.batch
    sessions, created = _lock_sessions(
        db, organization_id=organization_id, batch=batch, made_ahead=prepared.made
    )
    stored = _insert_new(db, organization_id=organization_id, pending=pending, sessions=sessions)
    fresh: dict[SessionKey, list[EventIn]] = {}
    for item in stored:
        fresh.setdefault(item.key, []).append(item.event)
    previous = {key: None if key in created else state["conversation_id"] for key, state in sessions.items()}
    rewrites = _settle_created(organization_id, batch=batch, fresh=fresh, sessions=sessions, created=created)
    changes = {
        key: apply_events(sessions[key], new_events)
        for key, new_events in fresh.items()
        if key not in created
    }
    changes = {key: change for key, change in changes.items() if change}
    _write_sessions(db, [*((sessions[key]["id"], change) for key, change in changes.items()), *rewrites])
    changes.update((key, change) for key, change in created.items() if key in fresh)
    _derive(
        db, organization_id, stored=stored, fresh=fresh, sessions=sessions, changes=changes, previous=previous
    )
    return IngestResult(inserted=len(stored), duplicates=prepared.count - len(stored))


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
            _change(key, sessions[key], previous[key], changes.get(key, ()), events)
            for key, events in fresh.items()
        ),
    )
    derivations.run(db, batch)


def _change(
    key: SessionKey, state: State, previous: str | None, changed: Iterable[str], events: list[EventIn]
) -> SessionChange:
    """One session's part of the StoredBatch (positional: built once per session of every batch)."""
    return SessionChange(
        key,
        state["id"],
        state["conversation_id"],
        previous,
        state["timestamp"],
        state["ended_at"],
        frozenset(changed),
        tuple(events),
        state,
    )


def _prepare(events: Sequence[EventIn], *, sqlite: bool) -> list[_Pending]:
    """One pending event per distinct event_id (the first occurrence in the batch wins)."""
    seen: dict[str, _Pending] = {}
    when = when_encoder(sqlite=sqlite)
    for event in events:
        if event.event_id not in seen:
            key = (event.channel_manager_service, event.channel_manager_sid)
            data = event.data.model_dump_json(exclude_unset=True)
            timestamp = when(event.timestamp)
            seen[event.event_id] = _Pending(event, key, data, timestamp)
    return list(seen.values())


def _lock_sessions(
    db: DBSession,
    *,
    organization_id: int,
    batch: dict[SessionKey, list[_Pending]],
    made_ahead: dict[SessionKey, _Made],
) -> tuple[dict[SessionKey, State], dict[SessionKey, State]]:
    """Lock the batch's stored sessions and create the new ones whole, each with every event the batch
    holds for it folded in (most often all of them are stored: `_settle_created` mends the others); a
    session made ahead (`prepare`) is taken as made. Returns every session's state (with its id) and,
    for each created one, the columns its events set."""
    now = utcnow()
    made: dict[SessionKey, _Made] = {}

    def make(keys: list[SessionKey]) -> list[tuple[Any, ...]]:
        rows = []
        for key in keys:
            made[key] = made_ahead.get(key) or _made(organization_id, key, batch[key])
            state = made[key][0]
            state["updated_at"] = now
            rows.append(_CREATED_ROW(state))
        return rows

    sessions, ids = sessions_store.lock_or_create(
        db,
        organization_id=organization_id,
        keys=batch,
        columns=READ_COLUMNS,
        made_columns=_CREATED_COLUMNS,
        make=make,
    )
    created: dict[SessionKey, State] = {}
    for key, row_id in ids.items():
        state, created[key] = made[key]
        state["id"] = row_id
        sessions[key] = state
    return sessions, created


# The columns of a session created whole: its key, when it was written, and every column the events set.
_CREATED_COLUMNS = (
    "organization_id",
    "channel_manager_service",
    "channel_manager_sid",
    "updated_at",
    *STATE_COLUMNS,
)
_CREATED_ROW = itemgetter(*_CREATED_COLUMNS)  # a made state has every one of them (`_UNSET`)


def _made(organization_id: int, key: SessionKey, items: Sequence[_Pending]) -> _Made:
    """A new session's state with the batch's events folded in (written `updated_at` None: set when it is
    inserted), and the columns they set."""
    state = _placeholder(organization_id, key, items, None)
    return state, apply_events(state, [item.event for item in items])


def _placeholder(
    organization_id: int, key: SessionKey, items: Sequence[_Pending], now: datetime | None
) -> State:
    """A new session's state before its events: every column the projection reads or writes (None where
    the placeholder sets none), dated its first event."""
    at = min([item.event.timestamp for item in items])
    return {**_UNSET, **sessions_store.placeholder(organization_id, key, at, now)}


_UNSET = dict.fromkeys((*READ_COLUMNS, *STATE_COLUMNS))


def _settle_created(
    organization_id: int,
    *,
    batch: dict[SessionKey, list[_Pending]],
    fresh: dict[SessionKey, list[EventIn]],
    sessions: dict[SessionKey, State],
    created: dict[SessionKey, State],
) -> list[tuple[int, State]]:
    """A created session some of whose events were not stored (stored before under another session: an
    event_id reused) is folded again from the events stored; returns those rows' every column, to write."""
    rewrites = []
    for key in created:
        stored = fresh.get(key, [])
        if len(stored) == len(batch[key]):
            continue
        state = _placeholder(organization_id, key, batch[key], sessions[key]["updated_at"])
        state["id"] = sessions[key]["id"]
        created[key] = apply_events(state, stored)
        sessions[key] = state
        rewrites.append((state["id"], {name: state.get(name) for name in STATE_COLUMNS}))
    return rewrites


def _write_sessions(db: DBSession, rows: list[tuple[int, State]]) -> None:
    """UPDATE the columns each session's new events changed (session id, {column: value})."""
    sessions_store.update(db, rows, now=utcnow())


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
    if _insert(db, organization_id, pending, sessions) == len(pending):
        attempt.commit()
        return list(pending)
    attempt.rollback()
    existing = events_store.stored_event_ids(
        db, organization_id=organization_id, event_ids=[item.event.event_id for item in pending]
    )
    new = [item for item in pending if item.event.event_id not in existing]
    if not new:
        return []
    if _insert(db, organization_id, new, sessions) == len(new):
        return new
    stored = events_store.stored_sessions(
        db, organization_id=organization_id, event_ids=[item.event.event_id for item in new]
    )
    # The events whose stored row points at the session we meant (a lost race points elsewhere).
    ours = [item for item in new if stored.get(item.event.event_id) == sessions[item.key]["id"]]
    for item in ours:
        item.row_id = None  # not proven ours: the search index looks the id up
    return ours


def _insert(
    db: DBSession, organization_id: int, pending: Sequence[_Pending], sessions: dict[SessionKey, State]
) -> int:
    """Insert the events' rows, each item learning its row's id; how many were inserted (-1: unknown)."""
    rows = [
        (item.event.event_id, sessions[item.key]["id"], item.event.type, item.timestamp, item.data_json)
        for item in pending
    ]
    ids, inserted = events_store.insert(db, organization_id=organization_id, events=rows)
    if ids is not None:
        for item, row_id in zip(pending, ids, strict=True):
            item.row_id = row_id
    return inserted
