"""Group commit: concurrent single events of one process share transactions in the writer thread, each
gets its own session back once committed, and an event that cannot be stored fails alone."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from sessionary.db import Database, open_database, session_scope
from sessionary.journey.intake.batcher import GroupCommit
from sessionary.journey.models import Customer, JourneyEvent, JourneySession
from sessionary.journey.store.incoming import Incoming
from sessionary.journey.store.sessionize import SessionState, StoredEvent
from tests.conftest import Org, make_org
from tests.journey.builders import make_deployment, minutes, now
from tests.test_db_ping import backend_pid, terminate


def _incoming(deployment: str, cookie: str, at_minute: float) -> Incoming:
    created = now() - minutes(30) + minutes(at_minute)
    event = StoredEvent(str(uuid.uuid4()), created, "web", "page_viewed", {"eventName": "page_viewed"})
    return Incoming(deployment, "site", cookie, event, timedelta(minutes=20), 4)


async def _submit_all(
    writes: GroupCommit, org_id: int, items: list[Incoming]
) -> list[SessionState | BaseException]:
    return await asyncio.gather(*(writes.submit(org_id, item) for item in items), return_exceptions=True)


def test_concurrent_submits_each_get_their_session_and_a_bad_event_fails_alone(
    database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    writes = GroupCommit(database, phone_region="US", max_batch=8)
    cookie = str(uuid.uuid4())
    good = [_incoming(deployment, cookie, n / 10) for n in range(24)]
    bad = _incoming(str(uuid.uuid4()), cookie, 1)  # a deployment that does not exist: a foreign key error
    try:
        results = asyncio.run(_submit_all(writes, org.id, [*good, bad]))
    finally:
        writes.stop()
    # The write path talks to the driver directly: its own IntegrityError (sqlite3 or psycopg).
    assert isinstance(results.pop(), sqlite3.IntegrityError | psycopg.IntegrityError)
    assert all(isinstance(s, SessionState) for s in results)
    assert len({s.uuid for s in results if isinstance(s, SessionState)}) == 1
    with session_scope(database.reader) as db:
        stored = db.scalar(select(func.count()).where(JourneyEvent.deployment_id == deployment))
    assert stored == len(good)


@pytest.mark.parametrize("size", [1, 3])
def test_each_submit_returns_after_its_event_is_committed(database: Database, org: Org, size: int) -> None:
    deployment = make_deployment(database, org.id)
    writes = GroupCommit(database, phone_region="US", max_batch=size)
    item = _incoming(deployment, str(uuid.uuid4()), 0)
    try:
        session = asyncio.run(writes.submit(org.id, item))
    finally:
        writes.stop()
    assert session.event_count == 1
    with session_scope(database.reader) as db:
        assert db.get(JourneyEvent, item.event.id) is not None


def test_stop_stores_what_is_queued_then_refuses_more(database: Database, org: Org) -> None:
    deployment = make_deployment(database, org.id)
    writes = GroupCommit(database, phone_region="US")
    asyncio.run(writes.submit(org.id, _incoming(deployment, str(uuid.uuid4()), 0)))
    writes.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        asyncio.run(writes.submit(org.id, _incoming(deployment, str(uuid.uuid4()), 0)))


def test_parallel_writers_give_each_customer_one_session_and_exact_totals(
    database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    writes = GroupCommit(database, phone_region="US", max_batch=5, writers=3)
    cookies = [str(uuid.uuid4()) for _ in range(4)]
    items = [_incoming(deployment, cookie, n / 10) for n in range(30) for cookie in cookies]
    try:
        results = asyncio.run(_submit_all(writes, org.id, items))
    finally:
        writes.stop()
    assert all(isinstance(s, SessionState) for s in results)
    with session_scope(database.reader) as db:
        sessions = db.execute(
            select(JourneySession.customer_id, JourneySession.event_count).where(
                JourneySession.deployment_id == deployment
            )
        ).all()
        totals = db.execute(select(Customer.event_count).where(Customer.deployment_id == deployment)).all()
    assert sorted(count for _, count in sessions) == [30] * 4
    assert [row.event_count for row in totals] == [30] * 4


def test_the_writer_stores_every_event_of_a_batch_whose_connection_had_died(database_url: str) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("a SQLite file does not disconnect")
    # one pooled connection, not pinged (it was used a moment ago): the writer's batch runs on it dead
    database = open_database(database_url, pool_size=1, ping_after_idle=3600)
    try:
        org = make_org(database)
        deployment = make_deployment(database, org.id)
        terminate(database_url, backend_pid(database))
        writes = GroupCommit(database, phone_region="US", max_batch=8, writers=1)
        items = [_incoming(deployment, str(uuid.uuid4()), n / 10) for n in range(6)]
        try:
            results = asyncio.run(_submit_all(writes, org.id, items))
        finally:
            writes.stop()
        assert all(isinstance(s, SessionState) for s in results), results
        with session_scope(database.reader) as db:
            stored = db.scalar(select(func.count()).where(JourneyEvent.deployment_id == deployment))
        assert stored == len(items)
    finally:
        database.dispose()
