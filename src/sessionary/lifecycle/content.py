"""Content retention: the content of sessions older than the organization's content period removed, their
facts and figures kept (what counts as content: README "Deleting data and retention").

Each table's owner removes its own content: the event log (transcript text, tool payloads, custom event text),
the notable events (descriptions, text attributes), the analysis (summaries) and the recordings (rows, fetch
jobs and blobs). The session row, its labels, latency, event types and times and the metric rollups stay.

Progress per organization (`purge_state`): `content_purged_before` walks the sessions by start time, a
batch per transaction; `content_checked_at` finds, through the index (organization_id, updated_at), the
sessions behind that mark that changed since (late events into a purged session), whose content goes again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session as DBSession

from sessionary.analysis import redaction as analysis_redaction
from sessionary.db import session_scope
from sessionary.db_types import utcnow
from sessionary.eventlog import redaction as eventlog_redaction
from sessionary.lifecycle import leases, policy
from sessionary.lifecycle.runner import LEASE, Report, Runner
from sessionary.notable import redaction as notable_redaction
from sessionary.recordings import retention as recordings_retention
from sessionary.sessions.models import Session

# A session's updated_at is taken before its transaction commits: changes this much older than a check may
# still commit after it, so the next check looks that far back again (redacting twice changes nothing).
COMMIT_MARGIN = timedelta(minutes=1)
_START = datetime(1970, 1, 1, tzinfo=UTC)
Cursor = tuple[datetime, int]


def redact(db: DBSession, report: Report, *, organization_id: int, session_ids: Sequence[int]) -> list[str]:
    """Remove these sessions' content, each owner its own table; returns the blob keys queued."""
    ids = list(session_ids)
    report.events_redacted += eventlog_redaction.redact_sessions(
        db, organization_id=organization_id, session_ids=ids
    )
    notable_redaction.redact_sessions(db, organization_id=organization_id, session_ids=ids)
    analysis_redaction.forget_summaries(db, organization_id=organization_id, session_ids=ids)
    keys = recordings_retention.forget_recordings(db, organization_id=organization_id, session_ids=ids)
    report.content_sessions += len(ids)
    report.recordings += len(keys)
    return keys


def content_cutoff(db: DBSession, *, organization_id: int, now: datetime) -> datetime | None:
    """Content of sessions that started before this is past the organization's content period as it is set
    now (None: none is set). Read again by every batch, so a period lengthened or removed during a purge
    stops it at once: content removed cannot come back."""
    days = policy.policy_of(db, organization_id=organization_id).content_retention_days
    return None if days is None else now - timedelta(days=days)


def purge_content(run: Runner, report: Report, *, job: leases.Job, now: datetime) -> None:
    """Remove the content of the organization's sessions past its content period at `now`: first those
    behind the mark that changed since the last check, then the ones past the mark, in start order."""
    checked = utcnow() - COMMIT_MARGIN
    org = job.organization_id
    if job.content_purged_before is not None and job.content_checked_at is not None:
        _recheck(
            run, report, organization_id=org, since=job.content_checked_at, behind=job.content_purged_before
        )
    if run.stopping():
        return
    # A first walk cut short must still have its mark: sessions it purged are checked again from it.
    first_check = checked if job.content_checked_at is None else None
    start = job.content_purged_before or _START
    done = _walk(run, report, organization_id=org, start=start, now=now, first_check=first_check)
    if done is not None:
        with session_scope(run.database.writer) as db:
            leases.content_progress(
                db, organization_id=org, now=utcnow(), purged_before=done, checked_at=checked
            )


def _walk(
    run: Runner,
    report: Report,
    *,
    organization_id: int,
    start: datetime,
    now: datetime,
    first_check: datetime | None,
) -> datetime | None:
    """Purge the sessions from `start` to the content cutoff by start time; once all are done, the cutoff
    they were done to (None: cut short, or no content period any more)."""
    cursor: Cursor = (start, 0)
    while True:
        began = time.monotonic()
        with session_scope(run.database.writer) as db:
            before = content_cutoff(db, organization_id=organization_id, now=now)
            if before is None:
                return None
            rows = _by_start(db, organization_id, after=cursor, before=before, limit=run.batch)
            if not rows:
                return max(before, start)
            keys = redact(db, report, organization_id=organization_id, session_ids=[i for _t, i in rows])
            cursor = (rows[-1][0], rows[-1][1])
            leases.content_progress(
                db,
                organization_id=organization_id,
                now=utcnow(),
                purged_before=cursor[0],
                checked_at=first_check,
            )
            leases.hold(db, organization_id=organization_id, until=utcnow() + LEASE, now=utcnow())
        run.drain(keys, report)
        if not run.between_batches(began):
            return None


def _recheck(run: Runner, report: Report, *, organization_id: int, since: datetime, behind: datetime) -> None:
    """Purge again the sessions started before `behind` that changed after `since`."""
    cursor: Cursor = (since, 0)
    while True:
        began = time.monotonic()
        with session_scope(run.database.writer) as db:
            rows = _changed(db, organization_id, after=cursor, behind=behind, limit=run.batch)
            if not rows:
                return
            keys = redact(db, report, organization_id=organization_id, session_ids=[i for _t, i in rows])
            leases.hold(db, organization_id=organization_id, until=utcnow() + LEASE, now=utcnow())
        cursor = rows[-1]
        run.drain(keys, report)
        if not run.between_batches(began):
            return


def _by_start(
    db: DBSession, organization_id: int, *, after: Cursor, before: datetime, limit: int
) -> list[Cursor]:
    """(timestamp, id) of the next sessions after the cursor that started before `before`."""
    at, last = after
    stmt = (
        select(Session.timestamp, Session.id)
        .where(
            Session.organization_id == organization_id,
            Session.timestamp >= at,
            Session.timestamp < before,
            or_(Session.timestamp > at, Session.id > last),
        )
        .order_by(Session.timestamp, Session.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in db.execute(stmt)]


def _changed(
    db: DBSession, organization_id: int, *, after: Cursor, behind: datetime, limit: int
) -> list[Cursor]:
    """(updated_at, id) of the next sessions changed after the cursor that started before `behind`."""
    at, last = after
    stmt = (
        select(Session.updated_at, Session.id)
        .where(
            Session.organization_id == organization_id,
            Session.updated_at >= at,
            or_(Session.updated_at > at, and_(Session.updated_at == at, Session.id > last)),
            Session.timestamp < behind,
        )
        .order_by(Session.updated_at, Session.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in db.execute(stmt)]
