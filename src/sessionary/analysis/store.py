"""The analysis' queries: mark sessions due, claim due ones, read the organization's norm, store results.

Marking (`mark_due`; the ingest's `derive_from_ingest`) runs inside every ingest transaction, so it is one
batched statement. A mark sets `due_at` (now for a session's first end; one minute on for events arriving
after an analysis, so a session trickling late events is re-analyzed at most about once a minute) and bumps
`generation`. A claim pushes `due_at` ahead by a lease, so a worker that dies leaves the session to be
retried; storing a result clears `due_at` only if `generation` is still the one read before the facts, else
the session stays due.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, func, literal, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary.analysis.facts import SessionFacts
from sessionary.analysis.models import SessionAnalysis, SessionSummary
from sessionary.analysis.rating import Norm, Rating, norm_of
from sessionary.analysis.summarizers import SummaryResult
from sessionary.db import insert_for
from sessionary.db_types import JSONType, UTCDateTime, utcnow
from sessionary.eventlog.batch import StoredBatch
from sessionary.fastsql import one_of
from sessionary.labels import service as labels
from sessionary.labels.schemas import SessionLabelCreate
from sessionary.sessions.models import Session

log = logging.getLogger(__name__)

LATE_EVENTS_DELAY = timedelta(minutes=1)
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3
AUTO_RATING_EMAIL = "auto-rating@sessionary"
_ANALYSIS = cast(Table, SessionAnalysis.__table__)
_SUMMARY = cast(Table, SessionSummary.__table__)


def derive_from_ingest(db: DBSession, stored: StoredBatch) -> None:
    """The ingest's derivation: an ended session the batch changed is due (its first end, or events
    after it)."""
    ended = [s.id for s in stored.sessions if s.changed and s.ended_at is not None]
    mark_due(db, organization_id=stored.organization_id, session_ids=ended)


def mark_due(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> None:
    """Mark these ended sessions due for analysis (the ingest hot path: one statement for the batch)."""
    if not session_ids:
        return
    now = utcnow()
    wanted = one_of(db, Session.id, sorted(set(session_ids)))
    late = func.coalesce(_ANALYSIS.c.due_at, literal(now + LATE_EVENTS_DELAY, UTCDateTime()))
    db.execute(_upsert_due(db, wanted, now=now, due_again=late))


def mark_ended_due(db: DBSession, *, organization_id: int | None, now: datetime) -> int:
    """Mark every ended session (of one organization, or all) due now; returns how many."""
    wanted: ColumnElement[bool] = Session.ended_at.is_not(None)
    if organization_id is not None:
        wanted = and_(wanted, Session.organization_id == organization_id)
    stmt = _upsert_due(db, wanted, now=now, due_again=literal(now, UTCDateTime()))
    return len(db.execute(stmt.returning(_ANALYSIS.c.session_id)).all())


def _upsert_due(
    db: DBSession, wanted: ColumnElement[bool], *, now: datetime, due_again: ColumnElement[Any]
) -> Any:
    """INSERT the sessions matching `wanted` as due `now`; a session with a row already gets `due_again`."""
    source = select(
        Session.id,
        Session.organization_id,
        literal(now, UTCDateTime()),
        literal(0),
        literal(0),
        literal({}, JSONType),
    ).where(wanted)
    names = ["session_id", "organization_id", "due_at", "generation", "attempts", "latency_means"]
    stmt = insert_for(db, _ANALYSIS).from_select(names, source)
    return stmt.on_conflict_do_update(
        index_elements=["session_id"],
        set_={"due_at": due_again, "generation": _ANALYSIS.c.generation + 1, "attempts": 0},
    )


def any_due(db: DBSession, *, ripe_before: datetime, organization_id: int | None = None) -> bool:
    """Whether a session is due (a cheap read, so an idle worker never takes the write lock)."""
    stmt = select(SessionAnalysis.session_id).where(SessionAnalysis.due_at <= ripe_before)
    if organization_id is not None:
        stmt = stmt.where(SessionAnalysis.organization_id == organization_id)
    return db.scalar(stmt.limit(1)) is not None


def claim(
    db: DBSession, *, now: datetime, ripe_before: datetime, limit: int, organization_id: int | None = None
) -> list[tuple[int, int]]:
    """Claim up to `limit` due sessions (organization id, session id), skipping rows other workers hold."""
    stmt = select(
        SessionAnalysis.session_id, SessionAnalysis.organization_id, SessionAnalysis.attempts
    ).where(SessionAnalysis.due_at <= ripe_before)
    if organization_id is not None:
        stmt = stmt.where(SessionAnalysis.organization_id == organization_id)
    stmt = stmt.order_by(SessionAnalysis.due_at).limit(limit).with_for_update(skip_locked=True)
    rows = db.execute(stmt).all()
    spent = [row.session_id for row in rows if row.attempts >= MAX_ATTEMPTS]
    claimed = [(row.organization_id, row.session_id) for row in rows if row.attempts < MAX_ATTEMPTS]
    if spent:
        log.warning("giving up the analysis of sessions %s after %d attempts", spent, MAX_ATTEMPTS)
        db.execute(update(_ANALYSIS).where(_ANALYSIS.c.session_id.in_(spent)).values(due_at=None))
    if claimed:
        ids = [session_id for _org, session_id in claimed]
        db.execute(
            update(_ANALYSIS)
            .where(_ANALYSIS.c.session_id.in_(ids))
            .values(due_at=now + LEASE, attempts=_ANALYSIS.c.attempts + 1)
        )
    return claimed


def generation_of(db: DBSession, *, session_id: int) -> int | None:
    """The session's mark generation (None when it was never marked); read before the facts."""
    return db.scalar(select(SessionAnalysis.generation).where(SessionAnalysis.session_id == session_id))


def org_norm(db: DBSession, *, organization_id: int, window: int) -> Norm:
    """The organization's latency norm over its `window` most recently analyzed sessions."""
    stmt = (
        select(SessionAnalysis.latency_means)
        .where(SessionAnalysis.organization_id == organization_id, SessionAnalysis.analyzed_at.is_not(None))
        .order_by(SessionAnalysis.analyzed_at.desc())
        .limit(window)
    )
    return norm_of(means for means in db.scalars(stmt) if means)


def save(
    db: DBSession, *, facts: SessionFacts, rating: Rating, summary: SummaryResult, generation: int | None
) -> None:
    """Store the rating (a new label only when it changed), the summary, and clear the session's mark."""
    session = db.scalar(select(Session).where(Session.id == facts.session_id).with_for_update())
    if session is None:  # deleted meanwhile
        return
    now = utcnow()
    _save_label(db, session, rating)
    values = {
        "summarizer": summary.summarizer,
        "summary": summary.summary,
        "rating": rating.text,
        "created_at": now,
    }
    stmt = insert_for(db, _SUMMARY).values(
        session_id=session.id, organization_id=session.organization_id, **values
    )
    db.execute(stmt.on_conflict_do_update(index_elements=["session_id"], set_=values))
    finish(db, facts=facts, generation=generation, now=now)


def finish(db: DBSession, *, facts: SessionFacts, generation: int | None, now: datetime) -> None:
    """Record the analysis; the mark is cleared unless the session was marked again since `generation`."""
    later = literal(now + LATE_EVENTS_DELAY, UTCDateTime())
    values: dict[str, Any] = {"analyzed_at": now, "latency_means": facts.latency_means(), "attempts": 0}
    stmt = insert_for(db, _ANALYSIS).values(
        session_id=facts.session_id,
        organization_id=facts.organization_id,
        due_at=None,
        generation=0,
        **values,
    )
    due = case((_ANALYSIS.c.generation == (-1 if generation is None else generation), None), else_=later)
    db.execute(stmt.on_conflict_do_update(index_elements=["session_id"], set_={**values, "due_at": due}))


def _save_label(db: DBSession, session: Session, rating: Rating) -> None:
    """A new auto-rating label when code or categories changed (labels.service.add_machine_label)."""
    body = SessionLabelCreate(
        session_id=session.id,
        type="auto-rating",
        code=rating.code,
        user_email=AUTO_RATING_EMAIL,
        comments=rating.comments,
        issue_categories=rating.categories,
    )
    labels.add_machine_label(db, organization_id=session.organization_id, body=body)
