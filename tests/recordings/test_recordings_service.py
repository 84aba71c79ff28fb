"""store_recording from Python (the demo's way in), on every database, and over an S3 store via HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from sessionary.db import Database, session_scope
from sessionary.recordings import service
from sessionary.recordings.audio import tone_wav
from sessionary.recordings.blobs import LocalBlobStore
from sessionary.sessions import service as sessions
from tests.conftest import Org
from tests.helpers import LiveServer
from tests.recordings.helpers import audio, recording_urls, stored_files, upload_ok
from tests.recordings.s3 import moto_server, s3_settings


def test_store_recording_attaches_a_generated_wav_to_a_new_session_once(
    database: Database, org: Org, tmp_path: Path
) -> None:
    store, wav, sid = LocalBlobStore(tmp_path), tone_wav(seconds=0.2), f"demo-{uuid.uuid4().hex[:8]}"

    def store_it() -> service.Attached:
        with session_scope(database.writer) as db:
            return service.store_recording(
                db,
                store,
                organization_id=org.id,
                channel_manager_service="demo",
                channel_manager_sid=sid,
                chunks=[wav[:1000], wav[1000:]],
                filename="tone.wav",
                content_type="audio/wav",
            )

    first, again = store_it(), store_it()
    assert first.duplicate is False
    assert again.duplicate is True
    assert again.recording.id == first.recording.id
    assert len(stored_files(tmp_path)) == 1  # the second copy's blob was dropped
    assert b"".join(store.open_range(first.recording.blob_key)) == wav
    with session_scope(database.reader) as db:
        session = sessions.get_session(db, organization_id=org.id, session_id=str(first.recording.session_id))
        assert (session.channel_manager_service, session.channel_manager_sid) == ("demo", sid)
        [listed] = service.session_recordings(db, organization_id=org.id, session_id=str(session.id))
        assert (listed.size, listed.filename, listed.content_type) == (len(wav), "tone.wav", "audio/wav")


def test_recordings_round_trip_through_an_s3_store(database_url: str, org: Org) -> None:
    data = audio(11 * 1024 * 1024 + 5, seed=8)  # more than one 8 MiB part: a multipart upload
    with moto_server() as endpoint:
        settings = s3_settings(endpoint, database_url=database_url)
        with LiveServer.start(settings) as live, httpx.Client(base_url=live.url, timeout=60) as http:
            stored = upload_ok(http, org.ingest, data, sid=f"s3-{uuid.uuid4().hex[:8]}")
            [url] = recording_urls(http, org.read, stored["session_id"])
            assert http.get(url).content == data
            tail = http.get(url, headers={"Range": "bytes=-1000"})
            assert (tail.status_code, tail.content) == (206, data[-1000:])
            middle = http.get(url, headers={"Range": "bytes=8388600-8388700"})
            assert middle.content == data[8388600:8388701]
