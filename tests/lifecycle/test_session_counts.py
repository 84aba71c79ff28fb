"""session_count (the list's total_count) stays exact through every way sessions go, on SQLite and
PostgreSQL: a deletion, a retention purge (in batches), an erasure of a person's calls and web visits, the
deletion of an organization; and after PostgreSQL's delta rows are folded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import delete

from sessionary.db import Database, session_scope
from sessionary.recordings.blobs import LocalBlobStore
from sessionary.sessions import counts
from sessionary.tenancy.models import Organization
from tests.conftest import Org, make_org
from tests.helpers import list_sessions
from tests.journey.builders import make_deployment
from tests.lifecycle.helpers import BASE, call, ingest, purger, session_id, set_retention
from tests.lifecycle.person import new_person, populate
from tests.sessions.counting import assert_counts_exact

DAY = timedelta(days=1)


def _fold(database: Database) -> None:
    folder = counts.CountFolder(database)
    assert any(not folder.work() for _ in range(100))


def test_a_deletion_keeps_the_counts_exact(client: httpx.Client, database: Database, org: Org) -> None:
    ingest(database, org.id, [e for n in range(3) for e in call(f"d{n}", n * DAY)])
    doomed = session_id(database, org.id, "d1")
    response = client.delete(f"/api/v1/sessions/{doomed}", headers=org.headers())
    assert response.status_code == 204
    assert_counts_exact(database, org.id)
    assert list_sessions(client, org.read)["total_count"] == 2
    _fold(database)
    assert_counts_exact(database, org.id)


def test_a_retention_purge_in_batches_keeps_the_counts_exact(
    private_database: tuple[str, Database], tmp_path: Path
) -> None:
    database = private_database[1]
    org = make_org(database)
    starts = [n * DAY + n * timedelta(hours=5) for n in range(7)]  # 3 before the cutoff, BASE + 3 days
    ingest(database, org.id, [e for n, start in enumerate(starts) for e in call(f"r{n}", start)])
    set_retention(database, org.id, 3, None)
    report = purger(database, LocalBlobStore(tmp_path / "blobs"), batch=2).run_once(BASE + 6 * DAY)
    assert report.sessions == 3
    assert_counts_exact(database, org.id)
    _fold(database)
    assert_counts_exact(database, org.id)


def test_an_erasure_of_calls_and_web_visits_keeps_the_counts_exact(
    client: httpx.Client, database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    ann = populate(client, org, deployment, new_person("ann"))
    populate(client, org, deployment, new_person("bob"), full=False)
    assert_counts_exact(database, org.id)
    listed = list_sessions(client, org.read)["total_count"]
    erased = client.post("/api/v1/erasure", json={"phone": ann.e164}, headers=org.headers())
    assert erased.status_code == 200, erased.text
    assert list_sessions(client, org.read)["total_count"] == listed - len(ann.session_ids) < listed
    assert_counts_exact(database, org.id)


def test_deleting_an_organization_leaves_no_count_behind(database: Database) -> None:
    gone = make_org(database)
    ingest(database, gone.id, [e for n in range(2) for e in call(f"o{n}", n * DAY)])
    with session_scope(database.writer) as db:
        db.execute(delete(Organization).where(Organization.id == gone.id))
    assert_counts_exact(database, gone.id)
    _fold(database)
    assert_counts_exact(database, gone.id)
