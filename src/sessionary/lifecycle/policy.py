"""An organization's retention periods: read, and changed (with an audit entry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session as DBSession

from sessionary.audit import service as audit
from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest
from sessionary.lifecycle.models import RetentionPolicy

MAX_DAYS = 36_500  # a hundred years: longer is "forever", which is no period at all (null)


@dataclass(frozen=True)
class Policy:
    """Retention periods in days (None: kept forever); `updated_at` None when never set."""

    retention_days: int | None = None
    content_retention_days: int | None = None
    updated_at: datetime | None = None


def policy_of(db: DBSession, *, organization_id: int) -> Policy:
    """The organization's periods (none set: everything is kept)."""
    row = db.get(RetentionPolicy, organization_id)
    if row is None:
        return Policy()
    return Policy(row.retention_days, row.content_retention_days, row.updated_at)


def check(retention_days: int | None, content_retention_days: int | None) -> None:
    """InvalidRequest naming the field when a period is out of range or content outlives its session."""
    for field, days in (
        ("retention_days", retention_days),
        ("content_retention_days", content_retention_days),
    ):
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise InvalidRequest(f"{field}: must be between 1 and {MAX_DAYS} days, or null (kept forever)")
    if (
        retention_days is not None
        and content_retention_days is not None
        and content_retention_days > retention_days
    ):
        raise InvalidRequest(
            "content_retention_days: must not be longer than retention_days"
            " (the content goes with its session)"
        )


def set_policy(
    db: DBSession, *, actor: audit.Actor, retention_days: int | None, content_retention_days: int | None
) -> Policy:
    """Set the organization's periods (both; None keeps forever) and record the change in the audit trail."""
    check(retention_days, content_retention_days)
    before = policy_of(db, organization_id=actor.organization_id)
    row = db.get(RetentionPolicy, actor.organization_id)
    now = utcnow()
    if row is None:
        row = RetentionPolicy(organization_id=actor.organization_id, updated_at=now)
        db.add(row)
    row.retention_days = retention_days
    row.content_retention_days = content_retention_days
    row.updated_at = now
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="retention.changed",
        details={
            "before": {
                "retention_days": before.retention_days,
                "content_retention_days": before.content_retention_days,
            },
            "after": {"retention_days": retention_days, "content_retention_days": content_retention_days},
        },
    )
    return Policy(retention_days, content_retention_days, now)
