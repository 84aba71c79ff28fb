"""Content retention's part of the recordings, and the orphaned-blob sweep's question.

A session past its organization's content retention period loses its recordings: their rows, the fetch jobs
that named them by URL, and (queued in the same transaction, deleted after it commits: blobgc.py) their
blobs. A blob with no recording row is an orphan (a crash between writing a blob and committing its row).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DBSession

from sessionary.recordings import blobgc
from sessionary.recordings.models import Recording, RecordingFetch

_CHUNK = 400


def forget_recordings(db: DBSession, *, organization_id: int, session_ids: Sequence[int]) -> list[str]:
    """Delete these sessions' recordings and fetch jobs, queue their blobs; returns the queued blob keys."""
    keys: list[str] = []
    for start in range(0, len(session_ids), _CHUNK):
        chunk = session_ids[start : start + _CHUNK]
        keys += db.scalars(
            delete(Recording)
            .where(Recording.organization_id == organization_id, Recording.session_id.in_(chunk))
            .returning(Recording.blob_key)
            .execution_options(synchronize_session=False)
        )
        db.execute(
            delete(RecordingFetch)
            .where(RecordingFetch.organization_id == organization_id, RecordingFetch.session_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    keys = sorted(set(keys))
    blobgc.queue(db, keys)
    return keys


def referenced(db: DBSession, keys: Sequence[str]) -> set[str]:
    """Which of these blob keys a recording row names."""
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        stmt = select(Recording.blob_key).where(Recording.blob_key.in_(keys[start : start + _CHUNK]))
        found.update(db.scalars(stmt))
    return found
