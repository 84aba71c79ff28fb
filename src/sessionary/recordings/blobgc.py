"""Deleting blobs whose recordings are gone: queued in the transaction that deletes the rows, deleted from the
store right after it commits, and retried (with backoff) by the purge worker until the store confirms it.

A blob cannot be deleted inside the transaction (a rollback would leave rows naming a missing blob) nor only
after it (a crash in between would leave it forever): the queue row commits with the deletion, so the blob
is deleted exactly when its rows are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DBSession

from sessionary.db import Database, insert_for, session_scope
from sessionary.db_types import utcnow
from sessionary.recordings.blobs import BlobStore
from sessionary.recordings.models import BlobDeletion

log = logging.getLogger(__name__)
_FIRST_RETRY = timedelta(seconds=30)
_LAST_RETRY = timedelta(hours=1)
_CHUNK = 400


def queue(db: DBSession, keys: Sequence[str]) -> None:
    """Queue these blobs for deletion, in the caller's transaction (a key queued twice is one row)."""
    now = utcnow()
    for start in range(0, len(keys), _CHUNK):
        rows = [
            {"blob_key": key, "due_at": now, "attempts": 0, "created_at": now}
            for key in keys[start : start + _CHUNK]
        ]
        if rows:
            db.execute(
                insert_for(db, BlobDeletion.__table__).on_conflict_do_nothing(index_elements=["blob_key"]),
                rows,
            )


def due(db: DBSession, *, now: datetime, limit: int) -> list[str]:
    """Queued blobs due for a (new) attempt, oldest first."""
    stmt = select(BlobDeletion.blob_key).where(BlobDeletion.due_at <= now).order_by(BlobDeletion.due_at)
    return list(db.scalars(stmt.limit(limit)))


def drain(database: Database, store: BlobStore, keys: Sequence[str]) -> int:
    """Delete these queued blobs from the store, then their queue rows (each failure is put off with
    backoff, for the purge worker). Runs outside any transaction of the caller; returns how many went."""
    gone: list[str] = []
    failed: dict[str, str] = {}
    for key in keys:
        try:
            store.delete(key)
            gone.append(key)
        except Exception as error:  # the store is down, a permission...: retried later
            log.warning("blob %s not deleted yet: %s", key, error)
            failed[key] = str(error)[:500] or type(error).__name__
    with session_scope(database.writer) as db:
        for start in range(0, len(gone), _CHUNK):
            db.execute(delete(BlobDeletion).where(BlobDeletion.blob_key.in_(gone[start : start + _CHUNK])))
        now = utcnow()
        for key, reason in failed.items():
            row = db.get(BlobDeletion, key)
            if row is None:
                continue
            wait = min(_FIRST_RETRY * 2 ** min(row.attempts, 16), _LAST_RETRY)
            db.execute(
                update(BlobDeletion)
                .where(BlobDeletion.blob_key == key)
                .values(attempts=row.attempts + 1, due_at=now + wait, last_error=reason)
            )
    return len(gone)
