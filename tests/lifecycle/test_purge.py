"""The purge worker's whole-session retention, on SQLite and PostgreSQL: a moved clock purges exactly what
is past its period, two workers share the organizations, a failing batch leaves whole batches behind, and
the OTLP traces, waiting spans and audit entries past their periods go too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DBSession

from sessionary.audit.models import AuditEntry
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.lifecycle import deletion, expiry, leases
from sessionary.otel import store as otel_store
from sessionary.otel.models import OtelPendingSpan, OtelTrace
from sessionary.recordings.blobs import LocalBlobStore
from tests.conftest import make_org
from tests.helpers import LiveServer
from tests.lifecycle.helpers import BASE, call, event_count, ingest, purger, set_retention, sids

DAY = timedelta(days=1)


@pytest.fixture
def db(private_database: tuple[str, Database]) -> Database:
    return private_database[1]


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def sessions_at(database: Database, org_id: int, offsets: dict[str, timedelta]) -> None:
    ingest(database, org_id, [e for sid, offset in offsets.items() for e in call(sid, offset)])


def test_a_moved_clock_purges_exactly_the_sessions_started_before_the_cutoff(
    db: Database, store: LocalBlobStore
) -> None:
    org, keeper = make_org(db), make_org(db)
    second = timedelta(seconds=1)
    sessions_at(db, org.id, {"old": -second, "edge": timedelta(0), "young": second})
    sessions_at(db, keeper.id, {"ancient": -400 * DAY})  # no policy: kept forever
    set_retention(db, org.id, 30, None)
    work = purger(db, store)

    early = work.run_once(BASE + 30 * DAY - second)  # "old" is one second short of its 30 days
    assert early.sessions == 0
    assert sids(db, org.id) == {"old", "edge", "young"}

    report = work.run_once(BASE + 30 * DAY)
    assert report.sessions == 1
    assert sids(db, org.id) == {"edge", "young"}
    assert event_count(db, org.id) == 2 * len(call("x", timedelta(0)))
    assert sids(db, keeper.id) == {"ancient"}


def test_retention_days_null_keeps_sessions_and_content_days_alone_deletes_no_session(
    db: Database, store: LocalBlobStore
) -> None:
    org = make_org(db)
    sessions_at(db, org.id, {"old": -400 * DAY})
    set_retention(db, org.id, None, 10)
    report = purger(db, store).run_once(BASE + 1000 * DAY)
    assert report.sessions == 0
    assert report.content_sessions == 1
    assert sids(db, org.id) == {"old"}


def test_two_workers_share_the_organizations_without_purging_any_twice(
    db: Database, store: LocalBlobStore
) -> None:
    orgs = [make_org(db) for _ in range(6)]
    for org in orgs:
        sessions_at(db, org.id, {f"s{i}": -i * DAY - DAY for i in range(5)})
        set_retention(db, org.id, 1, None)
    # An organization done rests an hour: within this test each is claimed once, by one of the workers.
    workers = [purger(db, store, batch=2, rest_seconds=3600) for _ in range(2)]
    reports = []
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        reports.append(workers[index].run_once(BASE + DAY))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    claimed = [org_id for report in reports for org_id in report.organizations]
    assert sorted(claimed) == sorted(org.id for org in orgs)
    assert sum(report.sessions for report in reports) == 30
    assert all(sids(db, org.id) == set() for org in orgs)


@pytest.fixture
def failing_second_batch(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """delete_sessions fails after its second batch's deletes (its transaction rolls back)."""
    real = deletion.delete_sessions
    calls: list[int] = []

    def flaky(db: DBSession, **kwargs: Any) -> deletion.Deleted:
        done = real(db, **kwargs)
        calls.append(len(kwargs["session_ids"]))
        if len(calls) == 2:
            raise RuntimeError("killed mid-purge")
        return done

    monkeypatch.setattr(expiry.deletion, "delete_sessions", flaky)
    yield calls
    monkeypatch.setattr(expiry.deletion, "delete_sessions", real)


def test_a_purge_stopped_mid_batch_leaves_whole_batches_and_the_next_pass_finishes(
    db: Database, store: LocalBlobStore, failing_second_batch: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(db)
    sessions_at(db, org.id, {f"s{i}": -i * DAY - DAY for i in range(7)})
    per_session = len(call("x", timedelta(0)))
    set_retention(db, org.id, 1, None)
    work = purger(db, store, batch=3)
    with pytest.raises(RuntimeError, match="killed mid-purge"):
        work.run_once(BASE + DAY)
    # The first batch (the 3 oldest) went whole; the second batch's deletes were rolled back whole.
    assert sids(db, org.id) == {"s0", "s1", "s2", "s3"}
    assert event_count(db, org.id) == 4 * per_session
    monkeypatch.undo()
    assert purger(db, store, batch=3).run_once(BASE + DAY).sessions == 4
    assert sids(db, org.id) == set()


def test_an_organization_leased_by_a_live_worker_is_left_until_its_lease_passes(
    db: Database, store: LocalBlobStore
) -> None:
    org = make_org(db)
    sessions_at(db, org.id, {"old": -10 * DAY})
    set_retention(db, org.id, 1, None)
    with session_scope(db.writer) as s:
        assert leases.claim(s, now=utcnow(), until=utcnow() + timedelta(minutes=5)) is not None
    assert purger(db, store).run_once(BASE).organizations == []
    assert sids(db, org.id) == {"old"}
    with session_scope(db.writer) as s:  # the holder died: its lease passes
        leases.hold(s, organization_id=org.id, until=utcnow() - timedelta(seconds=1), now=utcnow())
    assert purger(db, store).run_once(BASE).organizations == [org.id]
    assert sids(db, org.id) == set()


def count(database: Database, table: type) -> int:
    with session_scope(database.reader) as s:
        return s.scalar(select(func.count()).select_from(table)) or 0


def test_traces_waiting_spans_and_audit_entries_past_their_periods_are_deleted(
    db: Database, store: LocalBlobStore
) -> None:
    org = make_org(db)
    set_retention(db, org.id, 30, None)  # also an audit entry, recorded now
    now = utcnow()
    with session_scope(db.writer) as s:
        otel_store.lock_traces(s, organization_id=org.id, trace_ids=["a" * 32], now=now - 31 * DAY)
        otel_store.lock_traces(s, organization_id=org.id, trace_ids=["b" * 32], now=now - 29 * DAY)
        otel_store.park(s, organization_id=org.id, spans=[("c" * 32, "svc", [])], now=now - 2 * DAY)
        otel_store.park(s, organization_id=org.id, spans=[("d" * 32, "svc", [])], now=now)
    work = purger(db, store, audit_days=400, pending_seconds=300)

    report = work.run_once(now)
    assert (report.traces, report.pending_spans, report.audit_entries) == (1, 1, 0)
    assert count(db, OtelTrace) == 1
    assert count(db, OtelPendingSpan) == 1
    assert count(db, AuditEntry) == 1

    later = work.run_once(now + 401 * DAY)
    assert (later.traces, later.pending_spans, later.audit_entries) == (1, 1, 1)
    assert count(db, OtelTrace) == count(db, OtelPendingSpan) == count(db, AuditEntry) == 0


def test_the_servers_purge_worker_applies_a_period_set_over_the_api(
    private_database: tuple[str, Database], tmp_path: Path
) -> None:
    url, database = private_database
    org = make_org(database)
    now = utcnow()
    ingest(database, org.id, call("expired", now - 400 * DAY - BASE) + call("kept", now - 10 * DAY - BASE))
    settings = Settings(
        database_url=url,
        blob_dir=tmp_path / "blobs",
        analysis_worker=False,
        purge_worker=True,
        purge_poll_seconds=0.05,
    )
    with LiveServer.start(settings) as server:
        assert sids(database, org.id) == {"expired", "kept"}  # no period yet: the worker keeps everything
        body = {"retention_days": 365, "content_retention_days": None}
        put = httpx.put(f"{server.url}/api/v1/retention", json=body, headers=org.headers())
        assert put.status_code == 200, put.text
        deadline = time.monotonic() + 60
        while sids(database, org.id) != {"kept"} and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sids(database, org.id) == {"kept"}


@pytest.mark.parametrize("change", [None, 300], ids=["removed", "lengthened"])
def test_a_period_removed_or_lengthened_during_a_purge_stops_it_after_the_batch_under_way(
    db: Database, store: LocalBlobStore, change: int | None
) -> None:
    org = make_org(db)
    sessions_at(db, org.id, {f"s{n}": -(100 + n) * DAY for n in range(4)})
    set_retention(db, org.id, 30, None)
    work = purger(db, store, batch=1)
    # Between the first and the second batch, an admin changes the period (here, from the rest callback).
    work.run.pause_seconds = 1e-6
    work.run.rest = lambda _seconds: set_retention(db, org.id, change, None)
    report = work.run_once(BASE)
    assert report.sessions == 1  # the batch under way, and no other
    assert len(sids(db, org.id)) == 3


@pytest.mark.parametrize("change", [None, 300], ids=["removed", "lengthened"])
def test_a_content_period_removed_or_lengthened_during_a_purge_stops_it_and_marks_no_progress_past_it(
    db: Database, store: LocalBlobStore, change: int | None
) -> None:
    org = make_org(db)
    sessions_at(db, org.id, {f"s{n}": -(100 + n) * DAY for n in range(4)})
    set_retention(db, org.id, None, 30)
    work = purger(db, store, batch=1)
    work.run.pause_seconds = 1e-6
    work.run.rest = lambda _seconds: set_retention(db, org.id, None, change)
    assert work.run_once(BASE).content_sessions == 1
    work.run.rest = lambda _seconds: None
    # The content of the other three is still there, and a later pass with the new period keeps it.
    assert work.run_once(BASE).content_sessions == 0
