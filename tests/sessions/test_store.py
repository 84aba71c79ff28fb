"""sessions.store, the one writer of the `session` table: one placeholder row whichever caller makes it,
locks that find every key however many, and writes that refuse rows of differing columns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sessionary.db import Database, session_scope
from sessionary.recordings import service as recordings
from sessionary.recordings.blobs import LocalBlobStore
from sessionary.sessions import store as sessions_store
from sessionary.sessions.models import Session
from tests.conftest import Org

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _columns(session: Session) -> dict[str, Any]:
    """A stored session's columns, but its id and sid (which differ between two sessions by design)."""
    names = [c.key for c in Session.__table__.columns if c.key not in ("id", "channel_manager_sid")]
    return {name: getattr(session, name) for name in names}


def test_a_recordings_placeholder_is_the_row_ingest_makes_for_a_new_key(
    database: Database, org: Org, tmp_path: Path
) -> None:
    recorded, ingested = f"rec-{uuid.uuid4().hex[:8]}", f"ing-{uuid.uuid4().hex[:8]}"
    with session_scope(database.writer) as db:
        attached = recordings.store_recording(
            db, LocalBlobStore(tmp_path), organization_id=org.id, channel_manager_service="placeholder-test",
            channel_manager_sid=recorded, chunks=[b"RIFF"],
        )  # fmt: skip
        by_recording = db.get(Session, attached.recording.session_id)
        assert by_recording is not None
        at = by_recording.timestamp
        key = ("placeholder-test", ingested)
        locked = sessions_store.lock_or_create(
            db, organization_id=org.id, first_seen={key: at}, columns=["timestamp"], now=at
        )  # what ingest calls for the keys of its batch
    with session_scope(database.reader) as db:
        by_ingest = db.get(Session, locked[key]["id"])
        first = db.get(Session, attached.recording.session_id)
        assert by_ingest is not None
        assert first is not None
        assert _columns(by_ingest) == _columns(first)
    empty = {name: value for name, value in _columns(first).items() if value not in (None, at)}
    assert empty == {
        "organization_id": org.id,
        "channel_manager_service": "placeholder-test",
        "session_type": "other",
        "event_count": 0,
        "field_versions": {},
    }


def test_lock_or_create_finds_every_key_of_a_batch_past_one_in_list(database: Database, org: Org) -> None:
    keys = [("lock-test", f"{uuid.uuid4().hex[:8]}-{n:04d}") for n in range(450)]  # more than one chunk
    first_seen = dict.fromkeys(keys[:300], AT)
    with session_scope(database.writer) as db:
        made = sessions_store.lock_or_create(
            db, organization_id=org.id, first_seen=first_seen, columns=["event_count"], now=AT
        )
        assert sorted(made) == sorted(keys[:300])
        again = sessions_store.lock_or_create(
            db, organization_id=org.id, first_seen=dict.fromkeys(keys, AT), columns=["event_count"], now=AT
        )
    assert sorted(again) == sorted(keys)
    assert {k: again[k]["id"] for k in made} == {k: made[k]["id"] for k in made}  # the same sessions
    assert {state["event_count"] for state in again.values()} == {0}


def test_insert_refuses_rows_of_differing_columns(database: Database, org: Org) -> None:
    row = sessions_store.placeholder(org.id, ("insert-test", uuid.uuid4().hex), AT, AT)
    with session_scope(database.writer) as db, pytest.raises(ValueError, match="differ"):
        sessions_store.insert(db, [row, {**row, "channel_manager_sid": "b", "duration": 1.0}])


def test_delete_takes_the_sessions_out(database: Database, org: Org) -> None:
    rows = [sessions_store.placeholder(org.id, ("delete-test", uuid.uuid4().hex), AT, AT) for _ in range(3)]
    with session_scope(database.writer) as db:
        ids = sessions_store.insert(db, rows)
        sessions_store.delete(db, ids[:2])
    with session_scope(database.reader) as db:
        assert [db.get(Session, i) is not None for i in ids] == [False, False, True]
