"""The purge worker's state per organization (`purge_state`): who holds its purge (a lease) and how far the
content purge got. Every function runs in the caller's short write transaction.

Several server processes run a purge worker; each claims one organization at a time: the claim takes a row
whose lease has passed (PostgreSQL: FOR UPDATE SKIP LOCKED, so two claims never wait on or take the same
row; SQLite: the writer's lock serializes claims), and pushes its lease ahead. A worker renews the lease with
every batch and, done, sets it to when the organization is due again; a worker that dies leaves the lease
to pass, and another takes the organization over where the last committed batch left it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal, or_, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.lifecycle.models import PurgeState, RetentionPolicy


@dataclass(frozen=True)
class Job:
    """An organization claimed for a purge pass, with its periods and its progress."""

    organization_id: int
    retention_days: int | None
    content_retention_days: int | None
    content_purged_before: datetime | None
    content_checked_at: datetime | None


def claim(db: DBSession, *, now: datetime, until: datetime, skip: Collection[int] = ()) -> Job | None:
    """Claim an organization with a retention period whose lease has passed (the longest waiting first),
    but those in `skip` (done in this pass), its lease held until `until`; None when there is none."""
    _add_missing(db, now)
    has_period = or_(
        RetentionPolicy.retention_days.is_not(None), RetentionPolicy.content_retention_days.is_not(None)
    )
    stmt = (
        select(PurgeState, RetentionPolicy)
        .join(RetentionPolicy, RetentionPolicy.organization_id == PurgeState.organization_id)
        .where(has_period, or_(PurgeState.lease_until.is_(None), PurgeState.lease_until <= now))
        .where(PurgeState.organization_id.not_in(list(skip)))
        .order_by(PurgeState.lease_until.asc().nulls_first(), PurgeState.organization_id)
        .limit(1)
        .with_for_update(skip_locked=True, of=PurgeState)
    )
    found = db.execute(stmt).first()
    if found is None:
        return None
    state, policy = found
    state.lease_until, state.updated_at = until, now
    db.flush()
    return Job(
        state.organization_id,
        policy.retention_days,
        policy.content_retention_days,
        state.content_purged_before,
        state.content_checked_at,
    )


def _add_missing(db: DBSession, now: datetime) -> None:
    """A state row for every organization with a policy (a few rows: one per organization)."""
    rows = select(RetentionPolicy.organization_id, literal(now, PurgeState.updated_at.type)).where(
        RetentionPolicy.organization_id.not_in(select(PurgeState.organization_id))
    )
    insert = insert_for(db, PurgeState.__table__).from_select(["organization_id", "updated_at"], rows)
    db.execute(insert.on_conflict_do_nothing(index_elements=["organization_id"]))


def hold(db: DBSession, *, organization_id: int, until: datetime, now: datetime) -> None:
    """Keep (or give back: `until` when it is due again) the organization's lease."""
    _set(db, organization_id, now, lease_until=until)


def content_progress(
    db: DBSession,
    *,
    organization_id: int,
    now: datetime,
    purged_before: datetime | None = None,
    checked_at: datetime | None = None,
) -> None:
    """Record how far the content purge got (only the values given change)."""
    values = {"content_purged_before": purged_before, "content_checked_at": checked_at}
    _set(db, organization_id, now, **{k: v for k, v in values.items() if v is not None})


def _set(db: DBSession, organization_id: int, now: datetime, **values: object) -> None:
    db.execute(
        update(PurgeState)
        .where(PurgeState.organization_id == organization_id)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
