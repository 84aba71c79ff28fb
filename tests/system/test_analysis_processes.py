"""Several server processes, each with its analysis worker, on one database: every ended session is
rated and summarized, and no session gets two auto-rating labels for one result.

PostgreSQL: two `sessionary serve` processes claiming with FOR UPDATE SKIP LOCKED. SQLite: one `sessionary
serve --workers 2`, the claims serialized by the writer lock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sessionary.analysis.models import SessionAnalysis, SessionSummary
from sessionary.db import open_database
from sessionary.labels.models import SessionLabel
from sessionary.tenancy.models import Organization
from tests.analysis.calls import LOOKUP, Call
from tests.helpers import INGEST
from tests.system.processes import create_key, serving

CALLS = 30
FAILED = {**LOOKUP, "tool_result": None, "tool_error": "timeout"}


@pytest.fixture(params=["postgresql-two-servers", "sqlite-two-workers"])
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, list[str]]]:
    monkeypatch.setenv("SESSIONARY_ANALYSIS_POLL_SECONDS", "0.05")
    monkeypatch.setenv("SESSIONARY_ANALYSIS_DELAY_SECONDS", "0")
    if request.param == "postgresql-two-servers":
        url = request.getfixturevalue("empty_postgres_url")
        with serving(url, tmp_path / "a.log") as a, serving(url, tmp_path / "b.log") as b:
            yield url, [a.url, b.url]
        assert "Traceback" not in a.output() + b.output()
        return
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with serving(url, tmp_path / "workers.log", workers=2) as server:
        yield url, [server.url]
    assert "Traceback" not in server.output()


def _counts(url: str) -> tuple[int, int, int, int]:
    """(summaries, auto-rating labels, sessions labelled, sessions still due) of the organization."""
    database = open_database(url, pool_size=1)
    try:
        with database.reader() as db:
            org = db.scalar(select(Organization.id).where(Organization.name == "workers"))
            summaries = db.scalar(select(func.count()).where(SessionSummary.organization_id == org))
            labels = select(SessionLabel).where(SessionLabel.organization_id == org)
            label_count = db.scalar(select(func.count()).select_from(labels.subquery()))
            labelled = db.scalar(
                select(func.count(func.distinct(SessionLabel.session_id))).where(
                    SessionLabel.organization_id == org
                )
            )
            due = db.scalar(
                select(func.count()).where(
                    SessionAnalysis.organization_id == org, SessionAnalysis.due_at.is_not(None)
                )
            )
    finally:
        database.dispose()
    return summaries or 0, label_count or 0, labelled or 0, due or 0


def test_every_ended_session_is_analyzed_once_by_the_workers(deployment: tuple[str, list[str]]) -> None:
    url, urls = deployment
    key = create_key(url, "workers", "ingest")
    calls = [Call(sid=f"w-{n:02d}", tools=[(12, FAILED if n % 3 == 0 else LOOKUP)]) for n in range(CALLS)]

    def post(n: int) -> int:
        with httpx.Client(base_url=urls[n % len(urls)], timeout=60) as http:
            return http.post(
                INGEST, json={"events": calls[n].events()}, headers={"Syllable-API-Key": key}
            ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(post, range(CALLS))) == {200}
    deadline = time.monotonic() + 120
    while _counts(url)[0] < CALLS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _counts(url) == (CALLS, CALLS, CALLS, 0)
