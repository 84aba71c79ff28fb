"""Catching the rollups up with what changed since the last look: sessions changed or labelled (through
session.updated_at and the labels' timestamps) and sessions deleted (their snapshots, which the database
marks by setting live_session_id NULL).

A deleted session's share is taken out by its snapshot when it had no label and no events (a journey
session: its channel, duration and journey figures are all in the snapshot). Otherwise its label and
events went with it, so its day is counted again from the sessions (`_clear_days`): exact, and rare
(only the journey writer deletes sessions today, when late events merge or re-split them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, delete, or_, select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.db_types import utcnow
from sessionary.labels.models import SessionLabel
from sessionary.metrics import rollup
from sessionary.metrics.models import MetricsOrgState, MetricsRollup, MetricsSessionState
from sessionary.sessions import store as sessions_store
from sessionary.sessions.models import Session

CHUNK = rollup.CHUNK
# Sessions changed this long before the last catch-up are looked at again: a transaction that wrote
# them before it and committed after it is still counted.
CATCH_UP_MARGIN = timedelta(seconds=60)


def has_pending(db: DBSession, *, organization_id: int) -> bool:
    """Whether anything changed since the last catch-up (two or three index look-ups)."""
    deleted = select(MetricsSessionState.session_id).where(
        MetricsSessionState.live_session_id.is_(None), MetricsSessionState.organization_id == organization_id
    )
    if db.scalar(deleted.limit(1)) is not None:
        return True
    return bool(pending_session_ids(db, organization_id=organization_id))


def pending_session_ids(db: DBSession, *, organization_id: int) -> list[int]:
    """Sessions changed (or labelled) since the last catch-up, minus the margin; cheap when none are."""
    since = db.scalar(
        select(MetricsOrgState.rolled_through).where(MetricsOrgState.organization_id == organization_id)
    )
    sessions = select(Session.id).where(Session.organization_id == organization_id)
    labelled = select(SessionLabel.session_id).where(SessionLabel.organization_id == organization_id)
    if since is not None:
        sessions = sessions.where(Session.updated_at >= since - CATCH_UP_MARGIN)
        labelled = labelled.where(SessionLabel.timestamp >= since - CATCH_UP_MARGIN)
    ids = set(db.scalars(sessions)) | set(db.scalars(labelled))
    if not ids:
        return []
    return _not_current(db, organization_id, sorted(ids))


def _not_current(db: DBSession, organization_id: int, ids: list[int]) -> list[int]:
    """Those of `ids` whose snapshot is missing or older than the session."""
    out: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stmt = (
            select(Session.id)
            .outerjoin(MetricsSessionState, MetricsSessionState.session_id == Session.id)
            .where(Session.organization_id == organization_id, Session.id.in_(chunk))
            .where(
                MetricsSessionState.session_id.is_(None)
                | (MetricsSessionState.session_updated_at != Session.updated_at)
                | (MetricsSessionState.label_id.is_distinct_from(Session.session_label_id))
            )
        )
        out += list(db.scalars(stmt))
    return out


def catch_up(db: DBSession, *, organization_id: int) -> int:
    """Roll up every session changed or deleted since the last catch-up (a write transaction); returns
    how many.

    Lock order (PostgreSQL): the organization's catch-up row (only catch-ups take it), then every session
    it will count, in key order (`sessions.store.lock_ids`, as ingest and `lifecycle.deletion` lock them),
    and only then rollup rows and snapshots, which the writers too touch only after their sessions' locks.
    Taking a snapshot row first (dropping a re-counted day's) and a session lock after could deadlock with
    the journey writer deleting that session (its ON DELETE SET NULL writes the snapshot)."""
    now = utcnow()
    state = _lock_state(db, organization_id, now)
    deleted = _deleted_states(db, organization_id)
    days = {s.day for s in deleted if s.label_id is not None or s.max_event_id}
    first = state.rolled_through.year == 2000
    ids = set(
        _all_ids(db, organization_id) if first else pending_session_ids(db, organization_id=organization_id)
    )
    ids |= _counted_on(db, organization_id, days)
    _lock(db, organization_id, ids)
    alone = [s for s in deleted if s.label_id is None and s.max_event_id == 0]
    for start in range(0, len(alone), CHUNK):
        rollup.forget_sessions(db, organization_id=organization_id, states=alone[start : start + CHUNK])
    _clear_days(db, organization_id, days)
    done = len(deleted) + rollup.record_rollups(db, organization_id=organization_id, session_ids=ids)
    state.rolled_through = now
    db.flush()
    return done


def _lock_state(db: DBSession, organization_id: int, now: datetime) -> MetricsOrgState:
    """The organization's catch-up row, created if absent, locked: one catch-up at a time."""
    table = cast(Table, MetricsOrgState.__table__)
    db.execute(
        insert_for(db, table).on_conflict_do_nothing(index_elements=["organization_id"]),
        [{"organization_id": organization_id, "rolled_through": datetime(2000, 1, 1, tzinfo=now.tzinfo)}],
    )
    state = db.scalar(
        select(MetricsOrgState).where(MetricsOrgState.organization_id == organization_id).with_for_update()
    )
    assert state is not None
    return state


def rebuild(db: DBSession, *, organization_id: int) -> int:
    """Drop the organization's rollups and snapshots and roll every session up again from its events;
    returns how many. Repairs rows summed before ingest bounded durations (metrics.service reads such a
    row's total as 0; counted again, each event is read by today's rule: transcripts.formatting.usable_ms)."""
    _lock_state(db, organization_id, utcnow())
    _lock(db, organization_id, _all_ids(db, organization_id))  # sessions before snapshots (see catch_up)
    for model in (MetricsRollup, MetricsSessionState, MetricsOrgState):
        db.execute(delete(model).where(model.organization_id == organization_id))
    return catch_up(db, organization_id=organization_id)


def _deleted_states(db: DBSession, organization_id: int) -> list[MetricsSessionState]:
    """The snapshots of the organization's deleted sessions (read without locks: no writer touches them)."""
    return list(
        db.scalars(
            select(MetricsSessionState).where(
                MetricsSessionState.live_session_id.is_(None),
                MetricsSessionState.organization_id == organization_id,
            )
        )
    )


def _counted_on(db: DBSession, organization_id: int, days: set[date]) -> set[int]:
    """The sessions counted on these days or started on them: those a re-count of the days rolls up."""
    if not days:
        return set()
    ordered = sorted(days)
    states = MetricsSessionState
    on_days = (states.organization_id == organization_id, states.day.in_(ordered))
    ids = set(db.scalars(select(states.session_id).where(*on_days, states.live_session_id.is_not(None))))
    return ids | set(db.scalars(select(Session.id).where(*_started_on(organization_id, ordered))))


def _clear_days(db: DBSession, organization_id: int, days: set[date]) -> None:
    """Drop these days' rollup rows and snapshots (deleted sessions' too), for their sessions to be
    counted again (a deleted session's label and events went with it: its share cannot be taken out)."""
    if not days:
        return
    ordered = sorted(days)
    rollups = cast(Table, MetricsRollup.__table__)
    db.execute(
        delete(rollups).where(rollups.c.organization_id == organization_id, rollups.c.day.in_(ordered))
    )
    states = MetricsSessionState
    db.execute(delete(states).where(states.organization_id == organization_id, states.day.in_(ordered)))


def _started_on(organization_id: int, days: Iterable[date]) -> list[ColumnElement[bool]]:
    """Conditions on `session`: the organization's sessions that started on one of these UTC days."""
    ranges = [
        and_(Session.timestamp >= _midnight(day), Session.timestamp < _midnight(day + timedelta(days=1)))
        if day < date.max
        else Session.timestamp >= _midnight(day)
        for day in days
    ]
    return [Session.organization_id == organization_id, or_(*ranges)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _all_ids(db: DBSession, organization_id: int) -> list[int]:
    return list(
        db.scalars(select(Session.id).where(Session.organization_id == organization_id).order_by(Session.id))
    )


def _lock(db: DBSession, organization_id: int, ids: Iterable[int]) -> None:
    """Lock the sessions in key order, as ingest and lifecycle.deletion lock them (one global order, so
    that none of them deadlock; PostgreSQL: SQLite writers are serialized)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    keyed = sessions_store.keys_of(db, organization_id=organization_id, ids=list(ids))
    sessions_store.lock_ids(db, organization_id=organization_id, ids=[row_id for row_id, _ in keyed])
