"""Many searches over an oversized stored turn at once never break the server nor starve another tenant:
while they run, another organization's list of sessions answers, and no request gets a 500.

A `sessionary serve` process on each database; the 9.8 MB turn (every fourth word a match) is stored the
way turns stored before the ingest limit sit in a database. Only a generous timeout, no timing assertion
(bench/search_oversized.py measures the figures)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import select

from sessionary.db import open_database
from sessionary.tenancy.models import Organization
from tests.helpers import event, ingest_ok
from tests.search.oversized import REFILL, store_unchecked_turn
from tests.system.processes import create_key, serving

SEARCHES = 60
TIMEOUT = 120.0


def _store_oversized_turn(database_url: str, org_name: str) -> None:
    database = open_database(database_url, pool_size=1)
    try:
        with database.reader() as db:
            org_id = db.scalar(select(Organization.id).where(Organization.name == org_name))
        assert org_id is not None
        store_unchecked_turn(database, org_id, "huge", REFILL * (9_800_000 // len(REFILL)))
    finally:
        database.dispose()


def _search(client: httpx.Client, key: str) -> httpx.Response:
    return client.get("/api/v1/sessions/search", params={"q": "refill"}, headers={"Syllable-API-Key": key})


def test_concurrent_searches_over_an_oversized_turn_leave_another_orgs_list_answering(
    empty_database_url: str, tmp_path: Path
) -> None:
    big_key = create_key(empty_database_url, "big", "read")
    other_read, other_ingest = (
        create_key(empty_database_url, "other", scope) for scope in ("read", "ingest")
    )
    _store_oversized_turn(empty_database_url, "big")
    with serving(empty_database_url, tmp_path / "server.log") as server:
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
            ingest_ok(client, other_ingest, [event(f"e{n}", sid=f"call-{n}") for n in range(5)])
            with ThreadPoolExecutor(SEARCHES) as pool:
                searches = [pool.submit(_search, client, big_key) for _ in range(SEARCHES)]
                listed = client.get("/api/v1/sessions/", headers={"Syllable-API-Key": other_read})
                answers = [future.result() for future in searches]
    assert listed.status_code == 200, listed.text
    assert listed.json()["total_count"] == 5
    assert {answer.status_code for answer in answers} <= {200, 503}, [a.text for a in answers]
    assert all("Retry-After" in a.headers for a in answers if a.status_code == 503)
    found = [a.json() for a in answers if a.status_code == 200]
    assert found, "every search was refused"
    assert all(len(body["items"][0]["best_match"]["snippet"]) < 1_000 for body in found)
