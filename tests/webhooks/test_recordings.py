"""Recordings a platform reports in its webhook, fetched by the worker of a live server from a fake provider
on loopback and streamed back byte-equal by the recordings API (each test on a database of its own, as a
worker takes any due job); refused on a private address without the setting, through a redirect to one,
over the size limit; and a server killed between the webhook and the fetch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.recordings import fetchjobs
from sessionary.recordings.fetchjobs import FetchState
from tests.conftest import Org, make_org
from tests.helpers import LiveServer
from tests.recordings.fake_provider import FakeProvider, Route
from tests.recordings.fetching import serve_process, worker_settings
from tests.recordings.helpers import audio, recording_urls
from tests.webhooks import retell_payloads, twilio_payloads, vapi_payloads
from tests.webhooks.helpers import PUBLIC_URL, Connected, connect, retell_post, twilio_post, vapi_post
from tests.webhooks.readback import read_session

TOKEN = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
WAIT = 90.0


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider().running() as running:
        yield running


def _server(url: str, blob_dir: Path, **overrides: Any) -> Any:
    settings: dict[str, Any] = {
        "database_url": url,
        "blob_dir": blob_dir,
        "public_url": PUBLIC_URL,
        **worker_settings(),
        **overrides,
    }
    return LiveServer.start(Settings(**settings))


def _jobs(database: Database, org: Org, session_id: str) -> list[FetchState]:
    with session_scope(database.reader) as db:
        return fetchjobs.session_fetches(db, organization_id=org.id, session_id=session_id)


def _ended_jobs(database: Database, org: Org, session_id: str) -> list[FetchState]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        jobs = _jobs(database, org, session_id)
        if jobs and all(job.state != "pending" for job in jobs):
            return jobs
        time.sleep(0.05)
    raise AssertionError(f"fetches did not end: {_jobs(database, org, session_id)}")


def _streamed(server: LiveServer, org: Org, session_id: str) -> list[bytes]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        return [client.get(url).content for url in recording_urls(client, org.read, session_id)]


def _twilio_recording(server: LiveServer, hook: Connected, fake: FakeProvider, data: bytes) -> None:
    """The call's callbacks and its recording callback; Twilio serves the media at RecordingUrl + .mp3,
    behind basic auth (AccountSid, auth token)."""
    base = f"/2010-04-01/Accounts/{twilio_payloads.ACCOUNT}/Recordings/RE{'4d' * 16}"
    fake.routes[base + ".mp3"] = Route(
        body=data, content_type="audio/mpeg", auth=(twilio_payloads.ACCOUNT, TOKEN)
    )
    for params in [*twilio_payloads.answered_call(), twilio_payloads.recording(fake.url(base))]:
        answer = twilio_post(server.url, hook, params)
        assert answer.status_code == 200, answer.text


def test_a_twilio_recording_is_fetched_with_basic_auth_and_streams_back_byte_equal(
    private_database: tuple[str, Database], tmp_path: Path, fake: FakeProvider
) -> None:
    url, database = private_database
    org = make_org(database)
    hook = connect(database, org.id, "twilio", TOKEN)
    data = audio(250_000, seed=3)
    with _server(url, tmp_path / "blobs") as server:
        _twilio_recording(server, hook, fake, data)
        session_id = read_session(server.url, org, twilio_payloads.CALL)["session_id"]
        [job] = _ended_jobs(database, org, session_id)
        assert (job.state, job.last_error) == ("done", None)
        assert _streamed(server, org, session_id) == [data]
        # the same recording callback again: still one job, one recording
        answer = twilio_post(
            server.url,
            hook,
            twilio_payloads.recording(
                fake.url(f"/2010-04-01/Accounts/{twilio_payloads.ACCOUNT}/Recordings/RE{'4d' * 16}")
            ),
        )
        assert answer.status_code == 200
        assert len(_jobs(database, org, session_id)) == 1
        assert _streamed(server, org, session_id) == [data]


def test_a_retell_recording_streams_back_byte_equal(
    private_database: tuple[str, Database], tmp_path: Path, fake: FakeProvider
) -> None:
    url, database = private_database
    org = make_org(database)
    hook = connect(database, org.id, "retell", "key_rec")
    data = audio(180_000, seed=5)
    fake.routes["/retell/recording.wav"] = Route(body=data)
    with _server(url, tmp_path / "blobs") as server:
        for body in (retell_payloads.ended(recording_url=fake.url("/retell/recording.wav")),):
            assert retell_post(server.url, hook, body).status_code == 200
        session_id = read_session(server.url, org, retell_payloads.CALL_ID)["session_id"]
        [job] = _ended_jobs(database, org, session_id)
        assert job.state == "done"
        assert _streamed(server, org, session_id) == [data]


def test_vapi_mono_and_stereo_recordings_stream_back_byte_equal(
    private_database: tuple[str, Database], tmp_path: Path, fake: FakeProvider
) -> None:
    url, database = private_database
    org = make_org(database)
    hook = connect(database, org.id, "vapi", "vapi-rec-secret")
    mono, stereo = audio(120_000, seed=1), audio(240_000, seed=2)
    fake.routes["/vapi/mono.wav"] = Route(body=mono)
    fake.routes["/vapi/stereo.mp3"] = Route(body=stereo, content_type="audio/mpeg")
    body = vapi_payloads.report("call-rec")
    artifact = body["message"]["artifact"]
    artifact["recordingUrl"], artifact["stereoRecordingUrl"] = (
        fake.url("/vapi/mono.wav"),
        fake.url("/vapi/stereo.mp3"),
    )
    with _server(url, tmp_path / "blobs") as server:
        assert vapi_post(server.url, hook, body).status_code == 200
        session_id = read_session(server.url, org, "call-rec")["session_id"]
        jobs = _ended_jobs(database, org, session_id)
        assert sorted((job.source_key, job.state) for job in jobs) == [("mono", "done"), ("stereo", "done")]
        assert sorted(_streamed(server, org, session_id)) == sorted([mono, stereo])


@pytest.mark.parametrize("case", ["private address", "redirect to a host not allowed", "over the size limit"])
def test_a_recording_the_fetcher_must_not_take_ends_failed_and_stores_nothing(
    private_database: tuple[str, Database], tmp_path: Path, fake: FakeProvider, case: str
) -> None:
    url, database = private_database
    org = make_org(database)
    hook = connect(database, org.id, "retell", "key_refused")
    data = audio(50_000, seed=9)
    overrides: dict[str, Any] = {}
    fake.routes["/file.wav"] = Route(body=data)
    target = fake.url("/file.wav")
    if case == "private address":
        overrides["recording_fetch_allow_private"] = False
    elif case == "redirect to a host not allowed":
        # every redirect is checked again (a redirect to a private address with an allowed first hop:
        # tests/recordings/test_fetch_fetcher.py, whose address policy can tell the two apart)
        fake.routes["/hop.wav"] = Route(status=302, location=target.replace("127.0.0.1", "localhost"))
        overrides["recording_fetch_hosts"] = "127.0.0.1"
        target = fake.url("/hop.wav")
    else:
        overrides["recording_max_bytes"] = 10_000
    with _server(url, tmp_path / "blobs", **overrides) as server:
        assert retell_post(server.url, hook, retell_payloads.ended(recording_url=target)).status_code == 200
        session_id = read_session(server.url, org, retell_payloads.CALL_ID)["session_id"]
        [job] = _ended_jobs(database, org, session_id)
        assert job.state == "failed"
        assert job.last_error
        assert _streamed(server, org, session_id) == []
    expected = {
        "private address": "not a public address",
        "redirect to a host not allowed": "localhost",
        "over the size limit": "sessionary_recording_max_bytes",
    }
    assert expected[case] in job.last_error.lower(), job.last_error


def test_a_server_killed_after_the_webhook_and_before_the_fetch_ends_the_same(
    private_database: tuple[str, Database], tmp_path: Path, fake: FakeProvider
) -> None:
    url, database = private_database
    org, blob_dir = make_org(database), tmp_path / "blobs"
    hook = connect(database, org.id, "retell", "key_kill")
    data = audio(300_000, seed=11)
    fake.routes["/held.wav"] = Route(body=data, hold_first=50_000)  # the first fetch stalls mid-body
    body = retell_payloads.analyzed(recording_url=fake.url("/held.wav"))
    killed = serve_process(
        url, blob_dir, tmp_path / "killed.log", timeout=5, SESSIONARY_PUBLIC_URL=PUBLIC_URL
    )
    try:
        assert retell_post(killed.url, hook, body).status_code == 200  # acknowledged: committed
        assert fake.held.wait(WAIT), killed.output()
    finally:
        killed.kill()
    with _server(url, blob_dir) as server:
        seen = read_session(server.url, org, retell_payloads.CALL_ID)
        [job] = _ended_jobs(database, org, seen["session_id"])
        assert job.state == "done"
        assert _streamed(server, org, seen["session_id"]) == [data]
        assert retell_post(server.url, hook, body).status_code == 200  # the platform's retry: harmless
        again = read_session(server.url, org, retell_payloads.CALL_ID)
    assert again == seen
    assert len(_jobs(database, org, seen["session_id"])) == 1
