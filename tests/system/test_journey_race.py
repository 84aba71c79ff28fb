"""Two server processes on one database receiving the same customers' web events at the same time:
every customer ends with exactly the sessions one sequential writer gives (here one open session each),
no event lost or doubled, and customers sharing an email end on one contact.

PostgreSQL: two `sessionary serve` processes on one schema. SQLite: `sessionary serve --workers 2`."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sessionary.db import open_database
from sessionary.journey.models import Contact, Customer, JourneyEvent, JourneySession
from tests.system.processes import SESSIONARY, cli_env, create_key, serving

CUSTOMERS = 4
EVENTS_PER_CUSTOMER = 30
THREADS = 16


@dataclass(frozen=True)
class Cluster:
    database_url: str
    urls: list[str]


@pytest.fixture(params=["postgresql-two-servers", "sqlite-two-workers"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    if request.param == "postgresql-two-servers":
        url = request.getfixturevalue("empty_postgres_url")
        with serving(url, tmp_path / "a.log") as a, serving(url, tmp_path / "b.log") as b:
            yield Cluster(database_url=url, urls=[a.url, b.url])
        return
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with serving(url, tmp_path / "workers.log", workers=2) as server:
        assert len(server.worker_pids()) == 2, server.output()
        yield Cluster(database_url=url, urls=[server.url])


def _deployment(database_url: str) -> str:
    args = [SESSIONARY, "deployments", "create", "--org", "race", "--name", "Race site"]
    done = subprocess.run(
        args, env=cli_env(database_url), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _bodies(t0: datetime) -> list[dict[str, Any]]:
    bodies = []
    for c in range(CUSTOMERS):
        for n in range(EVENTS_PER_CUSTOMER):
            at = (t0 + timedelta(seconds=20 * n)).isoformat().replace("+00:00", "Z")
            body = {
                "customerCookieId": f"race-{c}",
                "eventName": "page_viewed",
                "page": {"url": f"https://race.example/{n}", "title": "race"},
                "createdDate": at,
            }
            if n == 0:
                body["traits"] = {"email": {"dataType": "string", "value": "Same.Person@example.com"}}
            bodies.append(body)
    random.Random(11).shuffle(bodies)
    return bodies


def _post(url: str, deployment: str, body: dict[str, Any]) -> str:
    with httpx.Client(base_url=url, timeout=120) as http:
        response = http.post(f"/api/v2/journey/deployments/{deployment}/webevents", json=body)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["session"]["id"]
    return session_id


def test_concurrent_events_of_the_same_customers_leave_one_session_each(cluster: Cluster) -> None:
    deployment = _deployment(cluster.database_url)
    key = create_key(cluster.database_url, "race", "read")
    bodies = _bodies(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20))
    targets = [cluster.urls[i % len(cluster.urls)] for i in range(len(bodies))]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(lambda url, body: _post(url, deployment, body), targets, bodies))

    database = open_database(cluster.database_url, pool_size=1)
    try:
        with database.reader() as db:
            per_customer = dict(
                db.execute(
                    select(JourneySession.customer_id, func.count()).group_by(JourneySession.customer_id)
                ).all()
            )
            events = db.scalar(select(func.count()).select_from(JourneyEvent))
            customers = db.execute(select(Customer.id, Customer.contact_id, Customer.event_count)).all()
            contacts = dict(db.execute(select(Contact.id, Contact.merged_into_id)).all())
            sessions = db.scalars(select(JourneySession)).all()
    finally:
        database.dispose()
    assert events == CUSTOMERS * EVENTS_PER_CUSTOMER
    assert len(customers) == CUSTOMERS
    assert sorted(per_customer.values()) == [1] * CUSTOMERS
    assert sorted(s.event_count for s in sessions) == [EVENTS_PER_CUSTOMER] * CUSTOMERS
    assert {c.event_count for c in customers} == {EVENTS_PER_CUSTOMER}
    roots = {contacts[c.contact_id] or c.contact_id for c in customers}
    assert len(roots) == 1, contacts

    with httpx.Client(base_url=cluster.urls[-1], timeout=60) as http:
        for session in sessions:
            got = http.get(
                f"/api/v2/journey/sessions/{session.uuid}", headers={"Authorization": f"Bearer {key}"}
            )
            assert got.status_code == 200, got.text
            assert (got.json()["eventCount"], got.json()["durationInSeconds"]) == (EVENTS_PER_CUSTOMER, 580)
