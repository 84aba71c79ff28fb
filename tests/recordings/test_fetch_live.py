"""The fetch worker of live servers on every database (each test on a database of its own: a worker takes
any due job): a recording queued by URL is fetched and streamed back by the recordings API, and a fetch
cut by SIGKILL is finished by the next server once its lease runs out, ending as an uninterrupted one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.recordings import service
from sessionary.recordings.fetchjobs import FetchState
from tests.conftest import Org, make_org
from tests.helpers import LiveServer
from tests.recordings.fake_provider import FakeProvider, Route
from tests.recordings.fetching import enqueue, jobs_of, new_sid, serve_process, session_id_of, worker_settings
from tests.recordings.helpers import audio, recording_urls, stored_files

WAIT = 90.0  # seconds a test waits for a job's end at most (the second server waits out a lease first)
KILLED_TIMEOUT = 5  # the killed server's fetch timeout: its lease runs out 10 s after its claim


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider().running() as running:
        yield running


def _live(url: str, blob_dir: Path) -> Any:
    return LiveServer.start(Settings(database_url=url, blob_dir=blob_dir, **worker_settings()))


def _wait_for(database: Database, org: Org, sid: str, done: Callable[[FetchState], bool]) -> FetchState:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        jobs = jobs_of(database, org, sid)
        if jobs and done(jobs[0]):
            return jobs[0]
        time.sleep(0.05)
    raise AssertionError(f"the job of {sid} did not end: {jobs_of(database, org, sid)}")


def _streamed(server: LiveServer, org: Org, session_id: str) -> list[bytes]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        return [client.get(url).content for url in recording_urls(client, org.read, session_id)]


def test_a_recording_reported_by_url_is_fetched_and_streamed_back_by_the_api(
    private_database: tuple[str, Database], tmp_path: Path, fake: FakeProvider
) -> None:
    url, database = private_database
    org = make_org(database)
    data = audio(300_000, seed=7)
    fake.routes["/RE1.wav"] = Route(body=data)
    sid = new_sid()
    with _live(url, tmp_path / "blobs") as server:
        enqueue(database, org, fake.url("/RE1.wav"), sid=sid, filename="RE1.wav")
        job = _wait_for(database, org, sid, lambda job: job.state != "pending")
        assert (job.state, job.attempts, job.last_error) == ("done", 1, None)
        assert _streamed(server, org, session_id_of(database, org, sid)) == [data]


def _committed(blob_dir: Path) -> list[Path]:
    """The blob files, without the temporary ones of writes never committed."""
    return [path for path in stored_files(blob_dir) if ".tmp" not in path.parts]


def test_a_fetch_cut_by_sigkill_is_finished_by_the_next_server_as_if_never_cut(
    private_database: tuple[str, Database], tmp_path: Path, fake: FakeProvider
) -> None:
    url, database = private_database
    org, blob_dir = make_org(database), tmp_path / "blobs"
    data = audio(400_000, seed=8)
    fake.routes["/cut.wav"] = Route(body=data, hold_first=100_000)  # the first request stalls mid-body
    fake.routes["/whole.wav"] = Route(body=data)
    cut, whole = new_sid(), new_sid()
    killed = serve_process(url, blob_dir, tmp_path / "killed.log", timeout=KILLED_TIMEOUT)
    try:
        enqueue(database, org, fake.url("/cut.wav"), sid=cut, filename="call.wav")
        assert fake.held.wait(WAIT), killed.output()
    finally:
        killed.kill()
    [mid_fetch] = jobs_of(database, org, cut)
    assert (mid_fetch.state, mid_fetch.attempts, mid_fetch.last_error) == ("pending", 1, None)  # claimed, cut
    assert _committed(blob_dir) == []
    with _live(url, blob_dir) as server:
        enqueue(database, org, fake.url("/whole.wav"), sid=whole, filename="call.wav")
        resumed = _wait_for(database, org, cut, lambda job: job.state != "pending")
        uninterrupted = _wait_for(database, org, whole, lambda job: job.state != "pending")
        streamed = {sid: _streamed(server, org, session_id_of(database, org, sid)) for sid in (cut, whole)}
    assert (resumed.attempts, uninterrupted.attempts) == (
        2,
        1,
    )  # the cut attempt counts; nothing else differs
    assert _end_state(database, org, cut, resumed) == _end_state(database, org, whole, uninterrupted)
    assert _end_state(database, org, cut, resumed)[:2] == ("done", None)
    assert streamed == {cut: [data], whole: [data]}
    assert len(fake.requests_to("/cut.wav")) == 2
    committed = _committed(blob_dir)  # one blob per session, nothing spare (the cut write stays in .tmp)
    assert sorted(path.read_bytes() == data for path in committed) == [True, True]


def _end_state(database: Database, org: Org, sid: str, job: FetchState) -> tuple[object, ...]:
    """A finished job and its session's recordings, without ids, dates and the attempts count."""
    with session_scope(database.reader) as db:
        found = service.session_recordings(
            db, organization_id=org.id, session_id=session_id_of(database, org, sid)
        )
        recordings = [(r.size, r.sha256, r.filename, r.content_type, r.id == job.recording_id) for r in found]
    return job.state, job.last_error, job.due_at, recordings
