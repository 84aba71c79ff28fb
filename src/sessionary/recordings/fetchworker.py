"""The recording fetch worker: a thread per server process fetching the recordings webhooks reported by URL.

Like the analysis worker (analysis/worker.py): it polls, claims one due job at a time with a lease (other
processes, and hosts on PostgreSQL, skip it), and works outside any transaction: a short one to claim, none
during the download, a short one to attach the recording (recordings.service.attach: the same bytes twice are
one recording) and mark the job done or failed. The lease is the fetch timeout plus a margin, so a process
killed mid-fetch leaves the job to whichever process claims it next, after a restart too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sessionary.background import PollingThread
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.integrations import service as integrations
from sessionary.integrations.secrets import SealerSource, SecretUnreadable
from sessionary.recordings import fetchjobs, service
from sessionary.recordings.fetcher import Auth, Failed, Fetched, Fetcher, Interrupted
from sessionary.recordings.fetchjobs import Job
from sessionary.recordings.stores import open_blob_store

log = logging.getLogger(__name__)

# Past the fetch's own deadline, the time a claim stays leased (the attach and its commit): 60 s, or the
# timeout itself when that is shorter (a test's), so a killed process's job is taken up within twice it.
LEASE_MARGIN = timedelta(seconds=60)


def lease_for(timeout_seconds: float) -> timedelta:
    """How long a claim holds its job: the fetch timeout plus the margin."""
    timeout = timedelta(seconds=timeout_seconds)
    return timeout + min(LEASE_MARGIN, timeout)


def fetch_next(
    database: Database,
    fetcher: Fetcher,
    sealers: SealerSource,
    *,
    lease: timedelta,
    now: datetime | None = None,
    organization_id: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> bool:
    """Claim the job due first (of one organization, or any) and fetch it; False when none was due (or
    others hold those due). `now` stands for the clock of the claim and the retry's schedule (tests)."""
    at = now or utcnow()
    with session_scope(database.reader) as db:
        if not fetchjobs.any_due(db, now=at, organization_id=organization_id):
            return False
    with session_scope(database.writer) as db:
        job = fetchjobs.claim(db, now=at, lease=lease, organization_id=organization_id)
    if job is None:
        return False
    try:
        outcome = _fetch(database, fetcher, sealers, job, should_stop)
    except Interrupted:
        with session_scope(database.writer) as db:
            fetchjobs.release(db, job_id=job.id, now=utcnow())
        return True
    if isinstance(outcome, Fetched):
        _attach(database, fetcher, job, outcome)
    else:
        _fail(database, job, outcome, now=now)
    return True


def _fetch(
    database: Database, fetcher: Fetcher, sealers: SealerSource, job: Job, should_stop: Callable[[], bool]
) -> Fetched | Failed:
    """The job's fetch (no transaction open), with basic auth when it names a user and an integration."""
    auth = None
    if job.auth_user is not None and job.integration_id is not None:
        try:
            with session_scope(database.reader) as db:
                password = integrations.open_secret(db, sealers, integration_id=job.integration_id)
        except SecretUnreadable:
            error = "the integration's secret does not open (SESSIONARY_SECRET_KEY changed?)"
            return Failed(error, permanent=True)
        if password is not None:
            auth = Auth(job.auth_user, password)
    return fetcher.fetch(provider=job.provider, url=job.url, auth=auth, should_stop=should_stop)


def _attach(database: Database, fetcher: Fetcher, job: Job, fetched: Fetched) -> None:
    """Attach the stored blob to the job's session and mark the job done; a spare blob is deleted."""
    blob, store = fetched.blob, fetcher.store
    try:
        with session_scope(database.writer) as db:
            if not fetchjobs.exists(db, job_id=job.id):  # its session was deleted during the fetch
                attached = None
            else:
                attached = service.attach(
                    db,
                    organization_id=job.organization_id,
                    channel_manager_service=job.channel_manager_service,
                    channel_manager_sid=job.channel_manager_sid,
                    blob=blob,
                    filename=job.filename,
                    content_type=job.content_type or fetched.content_type,
                )
                fetchjobs.done(db, job_id=job.id, recording_id=attached.recording.id, now=utcnow())
    except BaseException:
        store.delete(blob.key)
        raise
    if attached is None or attached.duplicate:
        store.delete(blob.key)
    log.info("recording fetch %s done: %d bytes", job.id, blob.size)


def _fail(database: Database, job: Job, failed: Failed, *, now: datetime | None) -> None:
    with session_scope(database.writer) as db:
        state = fetchjobs.failed(
            db, job_id=job.id, error=failed.error, permanent=failed.permanent, now=now or utcnow()
        )
    log.warning("recording fetch %s (attempt %d) failed, %s: %s", job.id, job.attempts, state, failed.error)


class RecordingFetchWorker(PollingThread):
    """The thread: fetches due jobs one at a time, polls every `poll_seconds` when none is due."""

    def __init__(
        self,
        database: Database,
        fetcher: Fetcher,
        sealers: SealerSource,
        *,
        poll_seconds: float,
        lease: timedelta,
    ) -> None:
        super().__init__(name="sessionary-recording-fetch", poll_seconds=poll_seconds)
        self._database, self._fetcher, self._sealers, self._lease = database, fetcher, sealers, lease

    @classmethod
    def from_settings(
        cls, database: Database, settings: Settings, sealers: SealerSource
    ) -> RecordingFetchWorker:
        fetcher = Fetcher.from_settings(settings, open_blob_store(settings))
        return cls(
            database,
            fetcher,
            sealers,
            poll_seconds=settings.recording_fetch_poll_seconds,
            lease=lease_for(settings.recording_fetch_timeout_seconds),
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop (a fetch under way is given back, due again) and wait for it."""
        super().stop(timeout)

    def work(self) -> bool:
        """One due job fetched (True), or none due (False: wait a poll). A failing pass (a database that is
        down, a full disk) leaves its job to the lease: it is retried."""
        return fetch_next(
            self._database, self._fetcher, self._sealers, lease=self._lease, should_stop=self.stopping
        )
