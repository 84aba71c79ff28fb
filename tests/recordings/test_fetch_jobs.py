"""The recording fetch queue on every database: one job per reported recording, URLs and fields refused
at the door, leases, the retry schedule, and jobs given up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest, NotFound
from sessionary.recordings import fetchjobs
from sessionary.recordings.fetchjobs import MAX_ATTEMPTS, backoff
from tests.conftest import Org
from tests.recordings.fetching import connect_twilio, enqueue, jobs_of, new_sid, session_id_of

URL = "http://127.0.0.1:9/recordings/RE1.wav"
LEASE = timedelta(minutes=5)


def test_the_same_recording_enqueued_twice_is_one_job(database: Database, org: Org) -> None:
    sid = new_sid()
    enqueue(database, org, URL, sid=sid, source_key="RE1")
    enqueue(database, org, URL + "?again=1", sid=sid, source_key="RE1")
    [job] = jobs_of(database, org, sid)
    assert (job.source_key, job.state, job.attempts, job.last_error) == ("RE1", "pending", 0, None)


def test_another_recording_of_the_session_is_another_job(database: Database, org: Org) -> None:
    sid = new_sid()
    enqueue(database, org, URL, sid=sid, source_key="RE1")
    enqueue(database, org, URL, sid=sid, source_key="RE2")
    assert [job.source_key for job in jobs_of(database, org, sid)] == ["RE1", "RE2"]


@pytest.mark.parametrize(
    "url",
    [
        "/recordings/RE1.wav",
        "ftp://127.0.0.1/RE1.wav",
        "https://AC1:token@api.twilio.com/RE1.wav",
        "https://api.twilio.com/RE1\n.wav",
        "https://api.twilio.com/" + "a" * 2048,
        "",
    ],
)
def test_enqueue_refuses_a_url_it_could_never_fetch_naming_url(
    database: Database, org: Org, url: str
) -> None:
    sid = new_sid()
    with pytest.raises(InvalidRequest, match="^url: "):
        enqueue(database, org, url, sid=sid)
    with pytest.raises(AssertionError, match="no session"):  # nothing was written, not even the session
        session_id_of(database, org, sid)


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("provider", {"provider": "zoom"}),
        ("source_key", {"source_key": ""}),
        ("source_key", {"source_key": "k" * 301}),
        ("auth_user", {"auth_user": "AC1:secret"}),
        ("auth_user", {"auth_user": "u" * 201}),
        ("filename", {"filename": "call\n.wav"}),
        ("content_type", {"content_type": "audio/" + "x" * 200}),
        ("channel_manager_sid", {"sid": ""}),
        ("channel_manager_sid", {"sid": "s" * 201}),
        ("channel_manager_service", {"service": ""}),
    ],
)
def test_enqueue_refuses_a_field_out_of_bounds_naming_it(
    database: Database, org: Org, field: str, overrides: dict[str, Any]
) -> None:
    options: dict[str, Any] = {"sid": new_sid(), **overrides}
    with pytest.raises(InvalidRequest, match=f"^{field}: "):
        enqueue(database, org, URL, **options)


def test_enqueue_refuses_an_integration_of_another_organization_or_provider(
    database: Database, org: Org, other_org: Org
) -> None:
    theirs = connect_twilio(database, other_org, "their-token")
    ours = connect_twilio(database, org, "our-token")
    with pytest.raises(InvalidRequest, match="^integration_id: no twilio integration"):
        enqueue(database, org, URL, sid=new_sid(), auth_user="AC1", integration_id=theirs)
    with pytest.raises(InvalidRequest, match="^integration_id: no vapi integration"):
        enqueue(database, org, URL, sid=new_sid(), provider="vapi", integration_id=ours)
    with pytest.raises(InvalidRequest, match="^integration_id: "):
        enqueue(database, org, URL, sid=new_sid(), integration_id=2**62)
    sid = new_sid()
    enqueue(database, org, URL, sid=sid, auth_user="AC1", integration_id=ours)
    assert [job.state for job in jobs_of(database, org, sid)] == ["pending"]


def test_a_claimed_job_is_claimed_again_only_once_its_lease_runs_out(database: Database, org: Org) -> None:
    sid = new_sid()
    enqueue(database, org, URL, sid=sid)
    now = utcnow()
    with session_scope(database.writer) as db:
        first = fetchjobs.claim(db, now=now, lease=LEASE, organization_id=org.id)
    with session_scope(database.writer) as db:
        during = fetchjobs.claim(
            db, now=now + LEASE - timedelta(seconds=1), lease=LEASE, organization_id=org.id
        )
    with session_scope(database.writer) as db:
        after = fetchjobs.claim(
            db, now=now + LEASE + timedelta(seconds=1), lease=LEASE, organization_id=org.id
        )
    assert first is not None
    assert after is not None
    assert during is None
    assert (first.id, first.attempts, first.channel_manager_sid, first.url) == (after.id, 1, sid, URL)
    assert after.attempts == 2


def test_a_job_whose_every_attempt_was_interrupted_is_given_up(database: Database, org: Org) -> None:
    sid = new_sid()
    enqueue(database, org, URL, sid=sid)
    now = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):  # each claim's process dies: its lease runs out
        with session_scope(database.writer) as db:
            job = fetchjobs.claim(db, now=now, lease=LEASE, organization_id=org.id)
        assert job is not None
        assert job.attempts == attempt
        now += LEASE + timedelta(seconds=1)
    with session_scope(database.writer) as db:
        assert fetchjobs.claim(db, now=now, lease=LEASE, organization_id=org.id) is None
    [job_state] = jobs_of(database, org, sid)
    assert job_state.state == "failed"
    assert (
        job_state.last_error
        == f"attempt {MAX_ATTEMPTS} of {MAX_ATTEMPTS} was interrupted (its process stopped)"
    )


def test_a_failed_attempt_is_retried_after_30_seconds_doubling_up_to_an_hour() -> None:
    waits = [backoff(attempt).total_seconds() for attempt in range(1, MAX_ATTEMPTS + 1)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert backoff(40) == timedelta(hours=1)


def test_a_released_job_is_due_at_once_and_its_attempt_not_counted(database: Database, org: Org) -> None:
    sid = new_sid()
    enqueue(database, org, URL, sid=sid)
    now = utcnow()
    with session_scope(database.writer) as db:
        job = fetchjobs.claim(db, now=now, lease=LEASE, organization_id=org.id)
    assert job is not None
    with session_scope(database.writer) as db:
        fetchjobs.release(db, job_id=job.id, now=now)
    [state] = jobs_of(database, org, sid)
    assert (state.state, state.attempts, state.due_at) == ("pending", 0, now)


def test_the_jobs_of_another_organizations_session_are_not_found(
    database: Database, org: Org, other_org: Org
) -> None:
    sid = new_sid()
    enqueue(database, org, URL, sid=sid)
    session_id = session_id_of(database, org, sid)
    with session_scope(database.reader) as db, pytest.raises(NotFound):
        fetchjobs.session_fetches(db, organization_id=other_org.id, session_id=session_id)
