"""Recording fetch jobs (the `recording_fetch` table; this module alone writes it): queue, claim, finish.

A webhook that names a recording URL queues a job (`enqueue`, inside the webhook's transaction). A worker
claims a due job with a lease (`claim` pushes `due_at` ahead, skipping rows another worker holds), fetches
outside any transaction, and then records the outcome: `done` (the recording's id; `due_at` NULL), `failed`
(retried after 30 s, doubling up to 1 h; given up after MAX_ATTEMPTS or at once for a permanent failure:
`due_at` NULL, `last_error` kept), or `release` (the worker is stopping: due again now, the attempt not
counted). A worker that dies mid-fetch leaves its claim to run out: the job is claimed again after the lease.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from pydantic import ValidationError
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest
from sessionary.integrations.models import Integration
from sessionary.integrations.providers import PROVIDERS
from sessionary.recordings import egress
from sessionary.recordings.models import RecordingFetch
from sessionary.recordings.schemas import RecordingFields
from sessionary.sessions import service as sessions
from sessionary.sessions import store as sessions_store
from sessionary.sessions.models import Session

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
ERROR_MAX_CHARS = 500  # recording_fetch.last_error
_FETCHES = cast(Table, RecordingFetch.__table__)
# Each text column's length in the table: longer values are refused by `enqueue`.
_BOUNDS = {"source_key": 300, "auth_user": 200, "filename": 255, "content_type": 200}

State = Literal["pending", "done", "failed"]


@dataclass(frozen=True)
class Job:
    """A claimed job: what the worker needs to fetch it and attach the recording."""

    id: int
    organization_id: int
    channel_manager_service: str
    channel_manager_sid: str
    provider: str
    url: str
    auth_user: str | None
    integration_id: int | None
    filename: str | None
    content_type: str | None
    attempts: int  # this one included


@dataclass(frozen=True)
class FetchState:
    """A job as tests and the console see it."""

    id: int
    source_key: str
    provider: str
    state: State
    attempts: int
    last_error: str | None
    recording_id: int | None
    due_at: datetime | None


def enqueue(
    db: DBSession,
    *,
    organization_id: int,
    channel_manager_service: str,
    channel_manager_sid: str,
    provider: str,
    source_key: str,
    url: str,
    auth_user: str | None = None,
    integration_id: int | None = None,
    filename: str | None = None,
    content_type: str | None = None,
) -> None:
    """Queue the fetch of the recording at `url` for the session (service, sid), due now; the same
    `source_key` reported again for the session is the same job. InvalidRequest names a field refused."""
    _check_session_key(channel_manager_service, channel_manager_sid)
    if provider not in PROVIDERS:
        raise InvalidRequest(f"provider: must be one of {', '.join(PROVIDERS)}; got {provider!r}")
    texts = {
        "source_key": source_key,
        "auth_user": auth_user,
        "filename": filename,
        "content_type": content_type,
    }
    for name, value in texts.items():
        _check_text(name, value)
    if auth_user is not None and ":" in auth_user:
        raise InvalidRequest("auth_user: must not contain ':' (HTTP basic authentication)")
    try:
        checked = egress.parse_url(url)
    except egress.BadURL as exc:
        raise InvalidRequest(f"url: {exc}") from None
    if integration_id is not None:
        _check_integration(db, integration_id, organization_id=organization_id, provider=provider)
    now = utcnow()
    key = (channel_manager_service, channel_manager_sid)
    session_id = sessions_store.ensure_placeholder(db, organization_id=organization_id, key=key, at=now)
    row = {
        **texts,
        "organization_id": organization_id,
        "session_id": session_id,
        "provider": provider,
        "url": checked.url,
        "integration_id": integration_id,
        "due_at": now,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    stmt = insert_for(db, _FETCHES).values(row)
    db.execute(stmt.on_conflict_do_nothing(index_elements=["session_id", "source_key"]))


def _check_session_key(service: str, sid: str) -> None:
    """The session key, bounded as a recording upload's fields are (InvalidRequest naming the field)."""
    try:
        RecordingFields(channel_manager_service=service, channel_manager_sid=sid)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidRequest(f"{error['loc'][0]}: {error['msg']}") from None


def _check_integration(db: DBSession, integration_id: int, *, organization_id: int, provider: str) -> None:
    """The integration whose secret authenticates the fetch must be the organization's, for `provider`."""
    found = db.execute(
        select(Integration.organization_id, Integration.provider).where(Integration.id == integration_id)
    ).first()
    if found is None or tuple(found) != (organization_id, provider):
        raise InvalidRequest(
            f"integration_id: no {provider} integration {integration_id} in this organization"
        )


def _check_text(name: str, value: str | None) -> None:
    if value is None:
        return
    if not value or len(value) > _BOUNDS[name]:
        raise InvalidRequest(f"{name}: must be 1 to {_BOUNDS[name]} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidRequest(f"{name}: must not contain control characters")


def any_due(db: DBSession, *, now: datetime, organization_id: int | None = None) -> bool:
    """Whether a job is due (a cheap read, so an idle worker never takes the write lock)."""
    stmt = select(RecordingFetch.id).where(RecordingFetch.due_at <= now)
    if organization_id is not None:
        stmt = stmt.where(RecordingFetch.organization_id == organization_id)
    return db.scalar(stmt.limit(1)) is not None


def claim(
    db: DBSession, *, now: datetime, lease: timedelta, organization_id: int | None = None
) -> Job | None:
    """The job due first (of one organization, or any), leased until `now + lease`; None when none is due
    or others hold the due ones. A job whose attempts are spent (its last worker died mid-fetch) is given
    up instead of claimed."""
    stmt = (
        select(RecordingFetch, Session.channel_manager_service, Session.channel_manager_sid)
        .join(Session, Session.id == RecordingFetch.session_id)
        .where(RecordingFetch.due_at <= now)
    )
    if organization_id is not None:
        stmt = stmt.where(RecordingFetch.organization_id == organization_id)
    stmt = (
        stmt.order_by(RecordingFetch.due_at, RecordingFetch.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=RecordingFetch)
    )
    while (found := db.execute(stmt).first()) is not None:
        fetch, service, sid = found
        if fetch.attempts < MAX_ATTEMPTS:
            _set(db, fetch.id, now, due_at=now + lease, attempts=fetch.attempts + 1)
            return _job(fetch, service, sid, attempts=fetch.attempts + 1)
        interrupted = f"attempt {fetch.attempts} of {MAX_ATTEMPTS} was interrupted (its process stopped)"
        log.warning("giving up recording fetch %s: %s", fetch.id, interrupted)
        _set(db, fetch.id, now, due_at=None, last_error=interrupted)
    return None


def _job(fetch: RecordingFetch, service: str, sid: str, *, attempts: int) -> Job:
    return Job(
        id=fetch.id,
        organization_id=fetch.organization_id,
        channel_manager_service=service,
        channel_manager_sid=sid,
        provider=fetch.provider,
        url=fetch.url,
        auth_user=fetch.auth_user,
        integration_id=fetch.integration_id,
        filename=fetch.filename,
        content_type=fetch.content_type,
        attempts=attempts,
    )


def exists(db: DBSession, *, job_id: int) -> bool:
    """Whether the job is still there (its session may have been deleted during the fetch)."""
    return db.scalar(select(RecordingFetch.id).where(RecordingFetch.id == job_id)) is not None


def done(db: DBSession, *, job_id: int, recording_id: int, now: datetime) -> None:
    """The job fetched its recording: it is never due again."""
    _set(db, job_id, now, due_at=None, recording_id=recording_id, last_error=None)


def failed(db: DBSession, *, job_id: int, error: str, permanent: bool, now: datetime) -> State:
    """Record a failed attempt: retried after a backoff, or given up (permanent, or attempts spent).
    A job another worker finished meanwhile stays done. Returns the job's state afterwards."""
    attempts = db.scalar(
        select(RecordingFetch.attempts).where(
            RecordingFetch.id == job_id, RecordingFetch.recording_id.is_(None)
        )
    )
    if attempts is None:
        return "done"
    error = error[:ERROR_MAX_CHARS]
    if permanent or attempts >= MAX_ATTEMPTS:
        _set(db, job_id, now, due_at=None, last_error=error, only_pending=True)
        return "failed"
    _set(db, job_id, now, due_at=now + backoff(attempts), last_error=error, only_pending=True)
    return "pending"


def release(db: DBSession, *, job_id: int, now: datetime) -> None:
    """Give a claimed job back, due now, its attempt not counted (the worker is stopping)."""
    stmt = (
        update(_FETCHES)
        .where(_FETCHES.c.id == job_id, _FETCHES.c.recording_id.is_(None), _FETCHES.c.attempts > 0)
        .values(due_at=now, attempts=_FETCHES.c.attempts - 1, updated_at=now)
    )
    db.execute(stmt)


def backoff(attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts`: 30 s, 1 min, 2 min, ... at most 1 h."""
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), LAST_RETRY)


def _set(db: DBSession, job_id: int, now: datetime, *, only_pending: bool = False, **values: object) -> None:
    stmt = update(_FETCHES).where(_FETCHES.c.id == job_id)
    if only_pending:
        stmt = stmt.where(_FETCHES.c.recording_id.is_(None))
    db.execute(stmt.values(**values, updated_at=now))


def session_fetches(db: DBSession, *, organization_id: int, session_id: str) -> list[FetchState]:
    """The session's fetch jobs, oldest first; NotFound for an unknown session or another organization's."""
    session = sessions.get_session(db, organization_id=organization_id, session_id=session_id)
    rows = db.scalars(
        select(RecordingFetch).where(RecordingFetch.session_id == session.id).order_by(RecordingFetch.id)
    )
    return [_state(row) for row in rows]


def _state(row: RecordingFetch) -> FetchState:
    state: State = "done" if row.recording_id is not None else "failed" if row.due_at is None else "pending"
    return FetchState(
        id=row.id,
        source_key=row.source_key,
        provider=row.provider,
        state=state,
        attempts=row.attempts,
        last_error=row.last_error,
        recording_id=row.recording_id,
        due_at=row.due_at,
    )
