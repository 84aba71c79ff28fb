"""The purge worker's blob sweeps, on SQLite and PostgreSQL: the deletion queue retries a failing store with
backoff until the blob is gone; the orphan sweep deletes an old blob no recording names and a stale partial
upload, and keeps a referenced blob and a fresh one (local directory and S3, moto's on loopback)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.lifecycle import sweeps
from sessionary.lifecycle.runner import Report, Runner
from sessionary.recordings import blobgc, blobs
from sessionary.recordings.blobs import BlobMissing, BlobStore, LocalBlobStore
from sessionary.recordings.models import BlobDeletion
from sessionary.recordings.s3 import S3BlobStore
from sessionary.recordings.stores import open_blob_store
from tests.conftest import make_org
from tests.lifecycle.helpers import attach_recording, call, ingest, purger
from tests.recordings.s3 import moto_server, s3_settings

DAY = timedelta(days=1)


@pytest.fixture
def db(private_database: tuple[str, Database]) -> Database:
    return private_database[1]


class FailingDeletes(LocalBlobStore):
    """A local store whose deletes fail while `down` is set (an S3 outage, a permission)."""

    down = True

    def delete(self, key: str) -> None:
        if self.down:
            raise OSError("store unavailable")
        super().delete(key)


def queued(database: Database) -> list[tuple[str, int]]:
    with session_scope(database.reader) as s:
        return [(row.blob_key, row.attempts) for row in s.scalars(select(BlobDeletion))]


def test_the_blob_queue_retries_a_failing_store_until_the_blob_is_gone(db: Database, tmp_path: Path) -> None:
    store = FailingDeletes(tmp_path / "blobs")
    key = blobs.put(store, [b"voice"]).key
    with session_scope(db.writer) as s:
        blobgc.queue(s, [key])
    work = purger(db, store, sweep_hours=1000)
    now = utcnow()

    assert work.run_once(now).blobs == 0
    assert queued(db) == [(key, 1)]
    assert work.run_once(now).blobs == 0  # put off: not due again yet
    assert queued(db) == [(key, 1)]
    assert work.run_once(now + timedelta(minutes=2)).blobs == 0  # due again, still failing
    assert queued(db) == [(key, 2)]

    store.down = False
    assert work.run_once(now + timedelta(hours=2)).blobs == 1
    assert queued(db) == []
    with pytest.raises(BlobMissing):
        store.size(key)


def age(path: Path, days: float) -> None:
    then = (utcnow() - timedelta(days=days)).timestamp()
    os.utime(path, (then, then))


def test_the_orphan_sweep_deletes_old_unreferenced_blobs_and_stale_partials_only(
    db: Database, tmp_path: Path
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    org = make_org(db)
    ingest(db, org.id, call("c1", timedelta(0)))
    referenced = attach_recording(db, store, org.id, "c1")
    orphan = blobs.put(store, [b"lost"]).key
    fresh = blobs.put(store, [b"being attached"]).key
    (store.root / ".tmp").mkdir(exist_ok=True)
    stale, current = store.root / ".tmp" / "killed", store.root / ".tmp" / "uploading"
    stale.write_bytes(b"half")
    current.write_bytes(b"half")
    for path in (store.root / referenced, store.root / orphan, stale):
        age(path, 2)

    report = Report()
    after = sweeps.sweep_orphans(Runner(db, store), report, now=utcnow(), after=None)

    assert (report.orphans, report.partial, after) == (1, 1, None)
    assert not (store.root / orphan).exists()
    assert not stale.exists()
    assert (store.root / referenced).exists()
    assert (store.root / fresh).exists()
    assert current.exists()


def test_the_orphan_sweep_runs_at_most_once_per_sweep_hours(db: Database, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    work = purger(db, store, sweep_hours=6)
    now = utcnow()
    work.run_once(now)
    orphan = blobs.put(store, [b"lost"]).key
    age(store.root / orphan, 2)
    assert work.run_once(now + timedelta(hours=5)).orphans == 0
    assert work.run_once(now + timedelta(hours=6)).orphans == 1


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def test_the_orphan_sweep_on_s3_deletes_old_unreferenced_objects_and_aborts_stale_uploads(
    db: Database, s3_endpoint: str
) -> None:
    store = open_blob_store(s3_settings(s3_endpoint, s3_prefix="rec/"))
    assert isinstance(store, S3BlobStore)
    org = make_org(db)
    ingest(db, org.id, call("c1", timedelta(0)))
    referenced = attach_recording(db, store, org.id, "c1")
    orphan = blobs.put(store, [b"lost"]).key
    store.client.create_multipart_upload(Bucket=store.bucket, Key=store.object_name("ab/killed"))
    run = Runner(db, store)

    young = Report()
    sweeps.sweep_orphans(run, young, now=utcnow(), after=None)
    assert young.orphans == 0
    # (moto dates every multipart upload 2010-11-10: the stale upload is aborted by either sweep)
    assert young.partial == 1

    old = Report()
    sweeps.sweep_orphans(run, old, now=utcnow() + 2 * DAY, after=None)
    assert old.orphans == 1
    assert [blob.key for blob in store.iter_blobs()] == [referenced]
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    with pytest.raises(BlobMissing):
        store.size(orphan)


def test_iter_blobs_goes_on_after_a_key_in_key_order(tmp_path: Path) -> None:
    store: BlobStore = LocalBlobStore(tmp_path / "blobs")
    keys = sorted(blobs.put(store, [bytes([i])]).key for i in range(5))
    assert [b.key for b in store.iter_blobs()] == keys
    assert [b.key for b in store.iter_blobs(keys[1])] == keys[2:]
