"""The purge worker: a thread in every server process that deletes what is past its retention period.

Each pass claims the organizations with a retention policy one at a time (a lease in `purge_state`,
lifecycle/leases.py, so several processes share them and a killed one's work is taken over) and, for each:
deletes the sessions past `retention_days` and its OTLP traces (lifecycle/expiry.py), then removes the content
of the sessions past `content_retention_days` (lifecycle/content.py); each batch is its own short
transaction. Then, across organizations: the blob deletion queue, OTLP spans waiting far too long, the audit
entries past SESSIONARY_AUDIT_RETENTION_DAYS, and at most once per SESSIONARY_PURGE_SWEEP_HOURS the
orphaned blobs (lifecycle/sweeps.py). Every part takes `now`, so tests move the clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sessionary.background import PollingThread
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.lifecycle import content, expiry, leases, sweeps
from sessionary.lifecycle.runner import LEASE, Report, Runner
from sessionary.recordings.blobs import BlobStore

log = logging.getLogger(__name__)
# OTLP spans still waiting this long past SESSIONARY_OTEL_PENDING_SECONDS are dropped (the sweeper stores
# them long before; only a sweeper that never ran leaves them).
PENDING_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Periods:
    """The periods that do not depend on an organization, and how often a pass is due."""

    audit_days: int = 400
    pending_seconds: float = 300.0
    rest_seconds: float = 60.0  # an organization done is due again after this
    sweep_hours: float = 6.0


class Purger:
    """One process's purge passes (the thread calls `run_once`; tests call it with a moved clock)."""

    def __init__(self, run: Runner, periods: Periods) -> None:
        self.run, self.periods = run, periods
        self._swept_at: datetime | None = None
        self._sweep_from: str | None = None

    def run_once(self, now: datetime) -> Report:
        """One pass: every organization that is due, then the sweeps."""
        report = Report()
        while not self.run.stopping():
            with session_scope(self.run.database.writer) as db:
                job = leases.claim(db, now=utcnow(), until=utcnow() + LEASE, skip=report.organizations)
            if job is None:
                break
            report.organizations.append(job.organization_id)
            try:
                self.purge_organization(job, now, report)
            finally:
                with session_scope(self.run.database.writer) as db:
                    due = utcnow() + timedelta(seconds=self.periods.rest_seconds)
                    leases.hold(db, organization_id=job.organization_id, until=due, now=utcnow())
        self.sweep(now, report)
        return report

    def purge_organization(self, job: leases.Job, now: datetime, report: Report) -> None:
        """Delete the organization's expired sessions and traces, then the content past its period."""
        org = job.organization_id
        if job.retention_days is not None:
            expiry.purge_sessions(self.run, report, organization_id=org, now=now)
            expiry.purge_traces(self.run, report, organization_id=org, now=now)
        if job.content_retention_days is not None and not self.run.stopping():
            content.purge_content(self.run, report, job=job, now=now)

    def sweep(self, now: datetime, report: Report) -> None:
        """The sweeps across organizations (orphaned blobs at most once per `sweep_hours`)."""
        sweeps.drain_queue(self.run, report, now=now)
        pending = timedelta(seconds=self.periods.pending_seconds) + PENDING_GRACE
        sweeps.forget_pending_spans(self.run, report, before=now - pending)
        sweeps.forget_audit(self.run, report, before=now - timedelta(days=self.periods.audit_days))
        if self._swept_at is None or now - self._swept_at >= timedelta(hours=self.periods.sweep_hours):
            self._sweep_from = sweeps.sweep_orphans(self.run, report, now=now, after=self._sweep_from)
            self._swept_at = now


class PurgeWorker(PollingThread):
    """The purge worker's thread: a pass, then a rest of SESSIONARY_PURGE_POLL_SECONDS."""

    def __init__(self, purger: Purger, *, poll_seconds: float) -> None:
        super().__init__(name="sessionary-purge", poll_seconds=poll_seconds)
        purger.run.stopping, purger.run.rest = self.stopping, self.rest
        self.purger = purger

    @classmethod
    def from_settings(cls, database: Database, store: BlobStore, settings: Settings) -> PurgeWorker:
        run = Runner(
            database,
            store,
            batch=settings.purge_batch,
            pause_seconds=settings.purge_pause_seconds,
            busy_share=settings.purge_busy_share,
        )
        periods = Periods(
            audit_days=settings.audit_retention_days,
            pending_seconds=settings.otel_pending_seconds,
            rest_seconds=settings.purge_poll_seconds,
            sweep_hours=settings.purge_sweep_hours,
        )
        return cls(Purger(run, periods), poll_seconds=settings.purge_poll_seconds)

    def work(self) -> bool:
        report = self.purger.run_once(utcnow())
        if report:
            log.info("purge: %s", report)
        return False
