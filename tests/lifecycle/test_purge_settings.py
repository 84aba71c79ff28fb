"""The purge worker a server starts runs with the SESSIONARY_PURGE_* and retention settings it was given."""

from __future__ import annotations

from pathlib import Path

from sessionary.config import Settings
from sessionary.db import open_database
from sessionary.lifecycle.purge import PurgeWorker
from sessionary.recordings.blobs import LocalBlobStore


def test_the_worker_from_settings_takes_every_purge_setting(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        purge_batch=123,
        purge_pause_seconds=0.5,
        purge_busy_share=0.4,
        purge_poll_seconds=7.0,
        purge_sweep_hours=3.0,
        audit_retention_days=30,
        otel_pending_seconds=90.0,
    )
    database = open_database(settings.database_url)
    try:
        worker = PurgeWorker.from_settings(database, LocalBlobStore(tmp_path / "blobs"), settings)
    finally:
        database.dispose()
    run, periods = worker.purger.run, worker.purger.periods
    assert (run.batch, run.pause_seconds, run.busy_share) == (123, 0.5, 0.4)
    assert worker.poll_seconds == 7.0
    assert (periods.audit_days, periods.pending_seconds, periods.sweep_hours) == (30, 90.0, 3.0)
    assert periods.rest_seconds == 7.0
