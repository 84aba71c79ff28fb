"""Checks of session_count against the sessions themselves, and a builder of sessions at chosen times."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database, session_scope
from sessionary.sessions.models import COUNTED_NAMES, Session, SessionCount

Key = tuple[Any, ...]


def make_session(db: DBSession, organization_id: int, at: datetime, **names: str | None) -> Session:
    """A session of the organization whose timestamp is `at`, with these name columns."""
    now = datetime.now(UTC)
    session = Session(
        organization_id=organization_id,
        session_type="voice",
        timestamp=at,
        channel_manager_service="hedy",
        channel_manager_sid=uuid.uuid4().hex,
        first_event_at=at,
        last_event_at=at,
        event_count=1,
        field_versions={},
        updated_at=now,
        **names,
    )
    db.add(session)
    return session


def from_sessions(db: DBSession, organization_id: int) -> Counter[Key]:
    """Sessions per (UTC day, name columns), counted from the rows."""
    stmt = select(Session.timestamp, *(getattr(Session, n) for n in COUNTED_NAMES)).where(
        Session.organization_id == organization_id
    )
    return Counter((row[0].astimezone(UTC).date(), *row[1:]) for row in db.execute(stmt))


def from_counts(db: DBSession, organization_id: int) -> Counter[Key]:
    """The same, summed from session_count (keys at 0 left out)."""
    key = (SessionCount.day, *(getattr(SessionCount, n) for n in COUNTED_NAMES))
    stmt = (
        select(*key, func.sum(SessionCount.n))
        .where(SessionCount.organization_id == organization_id)
        .group_by(*key)
    )
    return Counter({tuple(row[:-1]): int(row[-1]) for row in db.execute(stmt) if row[-1] != 0})


def assert_counts_exact(database: Database, organization_id: int) -> None:
    """session_count holds exactly the organization's sessions, key by key, and no negative count."""
    with session_scope(database.reader) as db:
        rows, kept = from_sessions(db, organization_id), from_counts(db, organization_id)
    assert kept == rows
    assert all(n > 0 for n in kept.values())
