"""Group commit: concurrent single events of one process share transactions, each gets its own session
back once committed, and an event that cannot be stored fails alone."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from sessionary.db import Database, session_scope
from sessionary.journey.batcher import GroupCommit
from sessionary.journey.models import JourneyEvent
from sessionary.journey.sessionize import SessionState, StoredEvent
from sessionary.journey.store import Incoming
from tests.conftest import Org
from tests.journey.builders import make_deployment, minutes, now


def _incoming(deployment: str, cookie: str, at_minute: float) -> Incoming:
    created = now() - minutes(30) + minutes(at_minute)
    event = StoredEvent(str(uuid.uuid4()), created, "web", "page_viewed", {"eventName": "page_viewed"})
    return Incoming(deployment, "site", cookie, event, timedelta(minutes=20), 4)


def test_concurrent_submits_each_get_their_session_and_a_bad_event_fails_alone(
    database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    writes = GroupCommit(database, phone_region="US", max_batch=8)
    cookie = str(uuid.uuid4())
    good = [_incoming(deployment, cookie, n / 10) for n in range(24)]
    bad = _incoming(str(uuid.uuid4()), cookie, 1)  # a deployment that does not exist: a foreign key error
    results: dict[int, SessionState | BaseException] = {}
    start = threading.Barrier(len(good) + 1)

    def submit(index: int, item: Incoming) -> None:
        start.wait()
        try:
            results[index] = writes.submit(org.id, item)
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=submit, args=(i, item)) for i, item in enumerate([*good, bad])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = results.pop(len(good))
    assert isinstance(failed, IntegrityError)
    sessions = list(results.values())
    assert all(isinstance(s, SessionState) for s in sessions)
    assert len({s.uuid for s in sessions if isinstance(s, SessionState)}) == 1
    with session_scope(database.reader) as db:
        stored = db.scalar(select(func.count()).where(JourneyEvent.deployment_id == deployment))
    assert stored == len(good)


@pytest.mark.parametrize("size", [1, 3])
def test_each_submit_returns_after_its_event_is_committed(database: Database, org: Org, size: int) -> None:
    deployment = make_deployment(database, org.id)
    writes = GroupCommit(database, phone_region="US", max_batch=size)
    item = _incoming(deployment, str(uuid.uuid4()), 0)
    session = writes.submit(org.id, item)
    assert session.event_count == 1
    with session_scope(database.reader) as db:
        assert db.get(JourneyEvent, item.event.id) is not None
