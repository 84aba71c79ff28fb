"""Whole sessions past their organization's retention period, deleted in bounded batches (each its own
short transaction, so ingest keeps the writer between them), and the organization's OTLP traces with them.

Figures rule: a retention purge keeps the sessions' share of the metric rollups (`keep_figures=True`): the
rollups are sums per day and segment with no personal data, and an overview of last year should not change
because last year's sessions have since expired. A deletion or an erasure takes the share out.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import session_scope
from sessionary.db_types import utcnow
from sessionary.lifecycle import deletion, leases, policy
from sessionary.lifecycle.runner import LEASE, Report, Runner
from sessionary.otel import retention as otel_retention
from sessionary.sessions.models import Session

TRACE_BATCH = 5000


def expired(db: DBSession, *, organization_id: int, before: datetime, limit: int) -> list[int]:
    """The organization's oldest sessions that started before `before` (index (organization_id, timestamp,
    id)), at most `limit`."""
    stmt = (
        select(Session.id)
        .where(Session.organization_id == organization_id, Session.timestamp < before)
        .order_by(Session.timestamp, Session.id)
        .limit(limit)
    )
    return list(db.scalars(stmt))


def cutoff(db: DBSession, *, organization_id: int, now: datetime) -> datetime | None:
    """Sessions that started before this are past the organization's period as it is set now (None: none
    is set). Read again by every batch: a period lengthened or removed during a purge stops it at once."""
    days = policy.policy_of(db, organization_id=organization_id).retention_days
    return None if days is None else now - timedelta(days=days)


def purge_sessions(run: Runner, report: Report, *, organization_id: int, now: datetime) -> None:
    """Delete the organization's sessions past its retention period at `now`, a batch per transaction."""
    while True:
        began = time.monotonic()
        with session_scope(run.database.writer) as db:
            before = cutoff(db, organization_id=organization_id, now=now)
            ids = (
                []
                if before is None
                else expired(db, organization_id=organization_id, before=before, limit=run.batch)
            )
            if not ids:
                return
            gone = deletion.delete_sessions(
                db, organization_id=organization_id, session_ids=ids, keep_figures=True
            )
            leases.hold(db, organization_id=organization_id, until=utcnow() + LEASE, now=utcnow())
        report.sessions += gone.sessions
        report.recordings += gone.recordings
        run.drain(gone.blob_keys, report)
        if len(ids) < run.batch or not run.between_batches(began):
            return


def purge_traces(run: Runner, report: Report, *, organization_id: int, now: datetime) -> None:
    """Delete the organization's OTLP traces first seen before its retention period at `now`, a batch per
    transaction."""
    while not run.stopping():
        with session_scope(run.database.writer) as db:
            before = cutoff(db, organization_id=organization_id, now=now)
            if before is None:
                return
            gone = otel_retention.forget_traces(
                db, organization_id=organization_id, before=before, limit=TRACE_BATCH
            )
        report.traces += gone
        if gone < TRACE_BATCH:
            return
