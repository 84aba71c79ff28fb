"""Recordings: attach a stored blob to its session (created as a placeholder if new), list, look up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session as DBSession

from sessionary.db import insert_for
from sessionary.db_types import utcnow
from sessionary.errors import Forbidden, NotFound
from sessionary.fastsql import FastSQL, is_sqlite
from sessionary.recordings import blobs
from sessionary.recordings.blobs import BlobStore, StoredBlob
from sessionary.recordings.models import Recording
from sessionary.sessions import service as sessions
from sessionary.sessions import store as sessions_store

_RECORDINGS = cast(Table, Recording.__table__)
_CHUNK = 400  # ids per IN list


@dataclass(frozen=True)
class Attached:
    """A recording as stored; `duplicate` when the session already had these bytes (the new blob is spare)."""

    recording: Recording
    duplicate: bool


def attach(
    db: DBSession,
    *,
    organization_id: int,
    channel_manager_service: str,
    channel_manager_sid: str,
    blob: StoredBlob,
    filename: str | None = None,
    content_type: str | None = None,
) -> Attached:
    """Record `blob` as a recording of the session (service, sid); the same bytes twice are one recording."""
    now = utcnow()
    # A new session is a placeholder that events arriving later fold into, as ingest makes them.
    key = (channel_manager_service, channel_manager_sid)
    session_id = sessions_store.ensure_placeholder(db, organization_id=organization_id, key=key, at=now)
    row: dict[str, object] = {
        "organization_id": organization_id,
        "session_id": session_id,
        "blob_key": blob.key,
        "size": blob.size,
        "sha256": blob.sha256,
        "filename": filename,
        "content_type": content_type,
        "created_at": now,
    }
    if is_sqlite(db):  # SQLite would give a deleted newest recording's id again (its old links with it)
        row["id"] = FastSQL(db).allocate_ids("recording", 1)[0]
    stmt = insert_for(db, _RECORDINGS).on_conflict_do_nothing(index_elements=["session_id", "sha256"])
    new_id = db.scalar(stmt.values(row).returning(_RECORDINGS.c.id))
    if new_id is not None:
        recording = db.get(Recording, new_id)
        assert recording is not None
        return Attached(recording, duplicate=False)
    existing = db.scalar(
        select(Recording).where(Recording.session_id == session_id, Recording.sha256 == blob.sha256)
    )
    assert existing is not None
    return Attached(existing, duplicate=True)


def store_recording(
    db: DBSession,
    store: BlobStore,
    *,
    organization_id: int,
    channel_manager_service: str,
    channel_manager_sid: str,
    chunks: Iterable[bytes],
    filename: str | None = None,
    content_type: str | None = None,
) -> Attached:
    """Write `chunks` to the store and attach them to the session: an upload without HTTP (demo, scripts)."""
    blob = blobs.put(store, chunks)
    try:
        attached = attach(
            db,
            organization_id=organization_id,
            channel_manager_service=channel_manager_service,
            channel_manager_sid=channel_manager_sid,
            blob=blob,
            filename=filename,
            content_type=content_type,
        )
    except BaseException:
        store.delete(blob.key)
        raise
    if attached.duplicate:
        store.delete(blob.key)
    return attached


def session_recordings(db: DBSession, *, organization_id: int, session_id: str) -> list[Recording]:
    """The session's recordings, oldest first; NotFound for an unknown session or another organization's."""
    session = sessions.get_session(db, organization_id=organization_id, session_id=session_id)
    return list(
        db.scalars(select(Recording).where(Recording.session_id == session.id).order_by(Recording.id))
    )


def granted_recording(db: DBSession, *, organization_id: int, recording_id: int) -> Recording:
    """The recording a token grants: NotFound if it is gone, Forbidden if another organization's."""
    recording = db.get(Recording, recording_id) if 0 < recording_id < 2**63 else None
    if recording is None:
        raise NotFound("Recording not found")
    if recording.organization_id != organization_id:
        raise Forbidden("This token does not grant that recording")
    return recording


def blob_keys_of(db: DBSession, *, session_ids: Sequence[int]) -> list[str]:
    """The blob keys of these sessions' recordings (before a deletion: the rows go with their sessions)."""
    ids = sorted(set(session_ids))
    keys: list[str] = []
    for start in range(0, len(ids), _CHUNK):
        stmt = select(Recording.blob_key).where(Recording.session_id.in_(ids[start : start + _CHUNK]))
        keys += db.scalars(stmt.order_by(Recording.id))
    return keys
