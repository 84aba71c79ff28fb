"""The audit trail's own retention: entries older than SESSIONARY_AUDIT_RETENTION_DAYS (default 400: a
year and a month, so a yearly review still finds the year) are deleted by the purge worker, in bounded
batches, across organizations (index ix_audit_entry_at)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DBSession

from sessionary.audit.models import AuditEntry


def forget_before(db: DBSession, *, before: datetime, limit: int) -> int:
    """Delete at most `limit` entries recorded before `before`, oldest first; how many went."""
    old = select(AuditEntry.id).where(AuditEntry.at < before).order_by(AuditEntry.at).limit(limit)
    result = db.execute(
        delete(AuditEntry)
        .where(AuditEntry.id.in_(old.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
