"""Content retention, on SQLite and PostgreSQL through a live server: the content of sessions past the
period goes (transcript text, search, tool payloads, provider reports, notable descriptions, summaries,
recordings and their blobs) while their facts and figures stay identical; late events into a purged
session are purged on the next pass."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sessionary.analysis.models import SessionSummary
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.eventlog.models import Event
from sessionary.notable.models import NotableEvent
from sessionary.recordings.blobs import BlobMissing, LocalBlobStore
from sessionary.recordings.models import Recording
from tests.conftest import Org, make_org
from tests.helpers import LiveServer, event
from tests.lifecycle.helpers import (
    BASE,
    analyze,
    at,
    attach_recording,
    call,
    ingest,
    purger,
    session_id,
    set_retention,
)

DAY = timedelta(days=1)
RANGE = {"start_datetime": "2025-12-01T00:00:00Z", "end_datetime": "2026-02-01T00:00:00Z"}


@pytest.fixture
def live(
    private_database: tuple[str, Database], tmp_path: Path
) -> Iterator[tuple[Database, httpx.Client, Path]]:
    url, database = private_database
    blob_dir = tmp_path / "blobs"
    settings = Settings(database_url=url, blob_dir=blob_dir, analysis_worker=False)
    with LiveServer.start(settings) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield database, client, blob_dir


def get(client: httpx.Client, org: Org, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()


def facts(client: httpx.Client, org: Org, ids: dict[str, int]) -> dict[str, Any]:
    """What must not change: sessions, metrics, labels, latency, event types and times."""
    return {
        "sessions": get(client, org, "/api/v1/sessions/", limit=100),
        "metrics": get(client, org, "/api/v1/metrics", **RANGE),
        "labels": get(client, org, "/api/v1/session_labels/", limit=100),
        "latency": {sid: get(client, org, f"/api/v1/sessions/latency/{i}") for sid, i in ids.items()},
        "events": {sid: event_facts(client, org, i) for sid, i in ids.items()},
    }


def event_facts(client: httpx.Client, org: Org, session: int) -> list[tuple[Any, ...]]:
    rows = get(client, org, "/api/v1/events/", limit=100, filters=f"session_id={session}")["items"]
    return sorted((r["timestamp"], r["type"], r["category"], r["source_id"]) for r in rows)


def found(client: httpx.Client, org: Org, words: str) -> set[int]:
    items = get(client, org, "/api/v1/sessions/search", q=words)["items"]
    return {int(item["session_id"]) for item in items}


def texts(client: httpx.Client, org: Org, session: int) -> list[str]:
    body = get(client, org, f"/api/v1/sessions/transcript/{session}")
    return [turn["text"] for turn in body["transcription"]]


def stored(database: Database, session: int) -> dict[str, Any]:
    with session_scope(database.reader) as db:
        events = {e.event_id: e.data for e in db.scalars(select(Event).where(Event.session_id == session))}
        notable = [
            (n.description, n.attributes)
            for n in db.scalars(select(NotableEvent).where(NotableEvent.session_id == session))
        ]
        summary = db.scalar(select(SessionSummary.summary).where(SessionSummary.session_id == session))
        recordings = list(db.scalars(select(Recording.blob_key).where(Recording.session_id == session)))
    return {"events": events, "notable": notable, "summary": summary, "recordings": recordings}


def test_content_retention_removes_the_text_and_keeps_the_facts_and_figures(
    live: tuple[Database, httpx.Client, Path],
) -> None:
    database, client, blob_dir = live
    store = LocalBlobStore(blob_dir)
    org = make_org(database)
    ingest(database, org.id, call("old", -DAY) + call("young", 10 * DAY))
    ids = {sid: session_id(database, org.id, sid) or 0 for sid in ("old", "young")}
    blobs = {sid: attach_recording(database, store, org.id, sid) for sid in ids}
    assert analyze(database, org.id, blob_dir) == 2
    assert stored(database, ids["old"])["summary"]
    before = facts(client, org, ids)
    assert found(client, org, "kumquat") == set(ids.values())
    set_retention(database, org.id, None, 30)

    report = purger(database, store).run_once(BASE + 30 * DAY)

    assert report.content_sessions == 1
    assert facts(client, org, ids) == before
    assert found(client, org, "kumquat") == {ids["young"]}
    assert texts(client, org, ids["old"]) == ["", ""]
    assert any("kumquat" in text for text in texts(client, org, ids["young"]))
    old = stored(database, ids["old"])
    assert "kumquat" not in str(old["events"])
    assert "+15550001" not in str(old["events"])
    assert old["events"]["old-t"]["tool_error"] is True
    assert old["events"]["old-t"]["tool_request"] is None
    assert old["events"]["old-r"]["attributes"] == {"cost": 0.12, "success": True}
    assert all(description is None for description, _attributes in old["notable"])
    assert "kumquat" not in str(old["notable"])
    assert "+15550001" not in str(old["notable"])
    assert old["summary"] is None
    assert old["recordings"] == []
    with pytest.raises(BlobMissing):
        store.size(blobs["old"])
    young = stored(database, ids["young"])
    assert "kumquat" in str(young["events"])
    assert young["summary"]
    assert young["recordings"] == [blobs["young"]]
    assert store.size(blobs["young"]) > 0


def test_late_events_into_a_purged_session_are_purged_on_the_next_pass(
    live: tuple[Database, httpx.Client, Path],
) -> None:
    database, client, blob_dir = live
    store = LocalBlobStore(blob_dir)
    org = make_org(database)
    ingest(database, org.id, call("old", -DAY))
    old = session_id(database, org.id, "old") or 0
    set_retention(database, org.id, None, 30)
    work = purger(database, store)
    assert work.run_once(BASE + 30 * DAY).content_sessions == 1
    late = event(
        "old-late",
        sid="old",
        timestamp=at(-DAY + timedelta(seconds=3)),
        data={"source": "user", "text": "papaya please"},
    )
    ingest(database, org.id, [late])
    assert found(client, org, "papaya") == {old}

    report = work.run_once(BASE + 30 * DAY)

    assert report.content_sessions == 1
    assert found(client, org, "papaya") == set()
    assert "papaya" not in str(stored(database, old)["events"])
    # Looked at again (changed within COMMIT_MARGIN of the last check), but nothing is left to remove.
    assert work.run_once(BASE + 30 * DAY).events_redacted == 0


def test_a_retention_purge_keeps_the_purged_sessions_share_of_the_metrics(
    live: tuple[Database, httpx.Client, Path],
) -> None:
    database, client, blob_dir = live
    store = LocalBlobStore(blob_dir)
    org = make_org(database)
    ingest(database, org.id, call("old", -DAY) + call("young", 10 * DAY))
    before = get(client, org, "/api/v1/metrics", **RANGE)
    set_retention(database, org.id, 30, None)

    assert purger(database, store).run_once(BASE + 30 * DAY).sessions == 1

    assert get(client, org, "/api/v1/sessions/", limit=100)["total_count"] == 1
    assert get(client, org, "/api/v1/metrics", **RANGE) == before
