"""Retention of the OTLP tables: traces older than the organization's retention period, and waiting spans
long past SESSIONARY_OTEL_PENDING_SECONDS (the sweeper normally stores them well before), deleted in
bounded batches by the purge worker (lifecycle/purge.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DBSession

from sessionary.otel.models import OtelPendingSpan, OtelTrace


def forget_traces(db: DBSession, *, organization_id: int, before: datetime, limit: int) -> int:
    """Delete at most `limit` of the organization's traces first seen before `before`; how many went."""
    old = (
        select(OtelTrace.trace_id)
        .where(OtelTrace.organization_id == organization_id, OtelTrace.created_at < before)
        .limit(limit)
    )
    result = db.execute(
        delete(OtelTrace)
        .where(OtelTrace.organization_id == organization_id, OtelTrace.trace_id.in_(old.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def forget_pending(db: DBSession, *, before: datetime, limit: int) -> int:
    """Delete at most `limit` waiting spans received before `before` (every organization); how many went."""
    old = select(OtelPendingSpan.id).where(OtelPendingSpan.received_at < before).limit(limit)
    result = db.execute(
        delete(OtelPendingSpan)
        .where(OtelPendingSpan.id.in_(old.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
