"""sessions.store, the one writer of the `session` table: one placeholder row whichever caller makes it,
locks that find every key however many, and writes that refuse rows of differing columns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sessionary.db import Database, session_scope
from sessionary.recordings import service as recordings
from sessionary.recordings.blobs import LocalBlobStore
from sessionary.sessions import store as sessions_store
from sessionary.sessions.models import Session
from sessionary.sessions.store import SessionKey
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
        _, created = sessions_store.lock_or_create(
            db,
            organization_id=org.id,
            keys=[key],
            columns=["timestamp"],
            made_columns=_PLACEHOLDER,
            make=_placeholders(org, at),
        )  # what ingest calls for the keys of its batch, which folds its events into these rows
    with session_scope(database.reader) as db:
        by_ingest = db.get(Session, created[key])
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


_PLACEHOLDER = tuple(sessions_store.placeholder(0, ("", ""), AT, AT))  # its columns, in order


def _placeholders(org: Org, at: datetime) -> Callable[[list[SessionKey]], list[tuple[Any, ...]]]:
    return lambda keys: [tuple(sessions_store.placeholder(org.id, key, at, at).values()) for key in keys]


def test_lock_or_create_finds_every_key_of_a_batch_past_one_in_list(database: Database, org: Org) -> None:
    keys = [("lock-test", f"{uuid.uuid4().hex[:8]}-{n:04d}") for n in range(450)]  # more than one chunk
    make = _placeholders(org, AT)
    with session_scope(database.writer) as db:
        stored, made = sessions_store.lock_or_create(
            db,
            organization_id=org.id,
            keys=keys[:300],
            columns=["event_count"],
            made_columns=_PLACEHOLDER,
            make=make,
        )
        assert (stored, sorted(made)) == ({}, sorted(keys[:300]))
        again, added = sessions_store.lock_or_create(
            db,
            organization_id=org.id,
            keys=keys,
            columns=["event_count"],
            made_columns=_PLACEHOLDER,
            make=make,
        )
    assert sorted(again) == sorted(keys[:300])
    assert sorted(added) == sorted(keys[300:])
    assert {k: again[k]["id"] for k in made} == made  # the same sessions
    assert {state["event_count"] for state in again.values()} == {0}


def test_create_leaves_a_key_stored_meanwhile_as_it_is(database: Database, org: Org) -> None:
    key, other = ("create-test", uuid.uuid4().hex), ("create-test", uuid.uuid4().hex)
    with session_scope(database.writer) as db:
        first = sessions_store.create(db, [sessions_store.placeholder(org.id, key, AT, AT)])
        later = AT.replace(hour=13)
        rows = [sessions_store.placeholder(org.id, k, later, later) for k in (key, other)]
        second = sessions_store.create(db, rows)
        kept = db.get(Session, first[key])
        assert kept is not None
        assert kept.timestamp == AT
    assert list(second) == [other]
    assert second[other] != first[key]


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
