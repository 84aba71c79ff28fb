"""Catching the rollups up with what changed since the last look: sessions changed or labelled (through
session.updated_at and the labels' timestamps) and sessions deleted (their snapshots, which the database
marks by setting live_session_id NULL).

A deleted session's share is taken out by its snapshot when it had no label and no events (a journey
session: its channel, duration and journey figures are all in the snapshot). Otherwise its label and
events went with it, so its day is counted again from the sessions (`_recount_days`): exact, and rare
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
    how many."""
    now = utcnow()
    table = cast(Table, MetricsOrgState.__table__)
    db.execute(
        insert_for(db, table).on_conflict_do_nothing(index_elements=["organization_id"]),
        [{"organization_id": organization_id, "rolled_through": datetime(2000, 1, 1, tzinfo=now.tzinfo)}],
    )
    state = db.scalar(
        select(MetricsOrgState).where(MetricsOrgState.organization_id == organization_id).with_for_update()
    )
    assert state is not None
    first = state.rolled_through.year == 2000
    done = forget_deleted(db, organization_id=organization_id)
    ids = _all_ids(db, organization_id) if first else pending_session_ids(db, organization_id=organization_id)
    done += _record(db, organization_id, ids)
    state.rolled_through = now
    db.flush()
    return done


def rebuild(db: DBSession, *, organization_id: int) -> int:
    """Drop the organization's rollups and snapshots and roll every session up again from its events;
    returns how many. Repairs rows summed before ingest bounded durations (metrics.service reads such a
    row's total as 0; counted again, each event is read by today's rule: transcripts.formatting.usable_ms)."""
    for model in (MetricsRollup, MetricsSessionState, MetricsOrgState):
        db.execute(delete(model).where(model.organization_id == organization_id))
    return catch_up(db, organization_id=organization_id)


def forget_deleted(db: DBSession, *, organization_id: int) -> int:
    """Take the shares of the organization's deleted sessions out; returns how many."""
    states = list(
        db.scalars(
            select(MetricsSessionState).where(
                MetricsSessionState.live_session_id.is_(None),
                MetricsSessionState.organization_id == organization_id,
            )
        )
    )
    alone = [s for s in states if s.label_id is None and s.max_event_id == 0]
    for start in range(0, len(alone), CHUNK):
        rollup.forget_sessions(db, organization_id=organization_id, states=alone[start : start + CHUNK])
    _recount_days(db, organization_id, {s.day for s in states if s.label_id is not None or s.max_event_id})
    return len(states)


def _recount_days(db: DBSession, organization_id: int, days: set[date]) -> None:
    """Count these days again from their sessions: drop their rollup rows and snapshots (deleted
    sessions' too), then roll up every session counted on them or started on them."""
    if not days:
        return
    ordered = sorted(days)
    states = MetricsSessionState
    on_days = (states.organization_id == organization_id, states.day.in_(ordered))
    ids = set(db.scalars(select(states.session_id).where(*on_days, states.live_session_id.is_not(None))))
    ids |= set(db.scalars(select(Session.id).where(*_started_on(organization_id, ordered))))
    rollups = cast(Table, MetricsRollup.__table__)
    db.execute(
        delete(rollups).where(rollups.c.organization_id == organization_id, rollups.c.day.in_(ordered))
    )
    db.execute(delete(states).where(*on_days))
    _record(db, organization_id, sorted(ids))


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


def _record(db: DBSession, organization_id: int, ids: list[int]) -> int:
    for start in range(0, len(ids), CHUNK):
        _lock(db, ids[start : start + CHUNK])
    return rollup.record_rollups(db, organization_id=organization_id, session_ids=ids)


def _all_ids(db: DBSession, organization_id: int) -> list[int]:
    return list(
        db.scalars(select(Session.id).where(Session.organization_id == organization_id).order_by(Session.id))
    )


def _lock(db: DBSession, ids: list[int]) -> None:
    """Lock the sessions in the order ingest locks them, so the two never deadlock (PostgreSQL)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    stmt = (
        select(Session.id)
        .where(Session.id.in_(ids))
        .order_by(Session.channel_manager_service, Session.channel_manager_sid)
        .with_for_update()
    )
    db.execute(stmt).all()
