"""The purge worker's sweeps across organizations: the blob deletion queue, orphaned blobs and unfinished
uploads, OTLP spans that waited far too long, and audit entries past the audit retention.

Orphans: a blob no recording row names, last written more than a day ago (younger ones may belong to an
upload whose row has not committed yet), and partial files of uploads and fetches killed mid-write (local
`<blob_dir>/.tmp`; S3: multipart uploads never completed). Walking a large store costs, so a sweep looks at
ORPHAN_PAGE blobs per call, going on where the last call stopped, and the worker calls it at most once per
SESSIONARY_PURGE_SWEEP_HOURS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice

from sessionary.audit import retention as audit_retention
from sessionary.db import session_scope
from sessionary.lifecycle.runner import Report, Runner
from sessionary.otel import retention as otel_retention
from sessionary.recordings import blobgc
from sessionary.recordings import retention as recordings_retention

ORPHAN_AGE = timedelta(days=1)
ORPHAN_PAGE = 10_000  # blobs looked at per sweep
_QUEUE_PAGE = 1000
_DELETE_BATCH = 5000


def drain_queue(run: Runner, report: Report, *, now: datetime) -> None:
    """Delete the queued blobs due for an attempt (a failing store: put off with backoff)."""
    with session_scope(run.database.reader) as db:
        keys = blobgc.due(db, now=now, limit=_QUEUE_PAGE)
    run.drain(keys, report)


def forget_pending_spans(run: Runner, report: Report, *, before: datetime) -> None:
    """Delete OTLP spans still waiting for their session key since before `before`."""
    while not run.stopping():
        with session_scope(run.database.writer) as db:
            gone = otel_retention.forget_pending(db, before=before, limit=_DELETE_BATCH)
        report.pending_spans += gone
        if gone < _DELETE_BATCH:
            return


def forget_audit(run: Runner, report: Report, *, before: datetime) -> None:
    """Delete audit entries recorded before `before`."""
    while not run.stopping():
        with session_scope(run.database.writer) as db:
            gone = audit_retention.forget_before(db, before=before, limit=_DELETE_BATCH)
        report.audit_entries += gone
        if gone < _DELETE_BATCH:
            return


def sweep_orphans(run: Runner, report: Report, *, now: datetime, after: str | None) -> str | None:
    """Delete up to a page of old blobs no recording names, from key `after` on, and old partial uploads.
    Returns where the next sweep goes on (None: from the start)."""
    report.partial += run.store.delete_partial(now - ORPHAN_AGE)
    page = list(islice(run.store.iter_blobs(after), ORPHAN_PAGE))
    old = [blob.key for blob in page if blob.modified < now - ORPHAN_AGE]
    with session_scope(run.database.reader) as db:
        kept = recordings_retention.referenced(db, old)
    for key in old:
        if key not in kept:
            run.store.delete(key)
            report.orphans += 1
    return page[-1].key if len(page) == ORPHAN_PAGE else None
