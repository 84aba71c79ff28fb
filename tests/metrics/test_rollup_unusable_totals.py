"""Rollup rows summed from events stored before ingest bounded numbers (issue 11, item 5) may hold totals
no accepted event can make: 1e308, infinity, NaN, and a bin past the largest latency. GET /api/v1/metrics
reads them without error (PostgreSQL raises on a float sum that overflows) and leaves them out."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy import Table, insert, select
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.metrics.models import MetricsRollup, MetricsSegment
from tests.conftest import Org
from tests.console.helpers import signed_in
from tests.helpers import LiveServer
from tests.transcripts.test_unusable_stored_numbers import good_session, write_old_rows

DAYS = (date(2024, 6, 19), date(2024, 6, 20))
PARAMS = {"start_datetime": "2024-06-19T00:00:00Z", "end_datetime": "2024-06-21T00:00:00Z"}


def _write_rows(database: Database, org: Org) -> None:
    """Two agent segments (so that a filtered read sums rows in SQL) and, on each day and segment, rows
    whose totals are out of reach of accepted events, beside one good row."""
    segments = cast(Table, MetricsSegment.__table__)
    rollups = cast(Table, MetricsRollup.__table__)
    with session_scope(database.writer) as db:
        # SQLite stores NaN as NULL, which the column refuses: no such row can be there
        nan = math.nan if db.get_bind().dialect.name == "postgresql" else -math.inf
        ids = []
        for n in range(2):
            row = {
                "organization_id": org.id,
                "signature": f"old-{n}",
                "level": "agent_name",
                "agent_name": "A",
            }
            ids.append(db.execute(insert(segments).values(row).returning(segments.c.id)).scalar_one())
        rows: list[dict[str, Any]] = []
        for segment_id in (0, *ids):
            for day in DAYS:
                for metric, key, count, total in (
                    ("sessions", "voice", 1, 1e308),
                    ("duration", "20+ min", 1, 1e308),
                    ("latency", "llm|8188", 1, 1e308),  # 1e308 ms: far past the largest bin
                    ("latency", "tts|40", 1, math.inf),
                    ("latency", "stt|40", 1, nan),
                    ("latency", "http|40", 2, 60.0),  # a good one: 2 measurements, 30 ms each
                    ("tool", "lookup", 1, 1e308),
                ):
                    where = {"organization_id": org.id, "segment_id": segment_id, "day": day}
                    rows.append(
                        {**where, "metric": metric, "key": key, "count": count, "errors": 0, "total": total}
                    )
        db.execute(insert(rollups), rows)


def test_rollup_totals_out_of_reach_of_accepted_events_are_read_as_zero(
    client: httpx.Client, database: Database, org: Org, server: LiveServer
) -> None:
    _write_rows(database, org)
    for extra in ({}, {"agent_name": "A"}):
        response = client.get("/api/v1/metrics", params={**PARAMS, **extra}, headers=org.headers("read"))
        assert response.status_code == 200, response.text
        body = response.json()
        latency = {f["category"]: f for f in body["latency"]}
        assert set(latency) == {"tts", "stt", "http"}  # llm's only bin is past the largest one
        assert latency["http"]["average_ms"] == 30.0
        assert latency["tts"]["average_ms"] == latency["stt"]["average_ms"] == 0.0
        assert body["totals"]["average_duration_seconds"] == 0.0
        [tool] = body["top_tools"]
        assert tool["average_ms"] == 0.0
        assert tool["calls"] == (2 if not extra else 4)
    with signed_in(server.url, org.read) as console:
        page = console.get("/overview", params={"range": "custom", "start": "2024-06-19T00:00",
                                                "end": "2024-06-21T00:00"})  # fmt: skip
        assert page.status_code == 200, page.text


def test_metrics_refresh_rebuild_counts_every_session_again_by_todays_rule(
    client: httpx.Client, database: Database, org: Org, database_url: str, tmp_path: Path
) -> None:
    session_id = good_session(client, org, "rebuild-1")
    write_old_rows(database, org, session_id)
    _write_rows(database, org)  # as rolled up by a version that counted 1e308 as it came
    env = {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_BLOB_DIR": str(tmp_path / "blobs")}
    result = CliRunner().invoke(app, ["metrics", "refresh", "--org", org.name, "--rebuild"], env=env)
    assert result.exit_code == 0, result.output
    assert "rolled up 1 sessions" in result.output
    with session_scope(database.reader) as db:
        totals = db.scalars(select(MetricsRollup.total).where(MetricsRollup.organization_id == org.id)).all()
    assert totals
    assert all(math.isfinite(t) and abs(t) <= 1e12 for t in totals)
    response = client.get("/api/v1/metrics", params=PARAMS, headers=org.headers("read"))
    body = response.json()
    assert {f["category"]: (f["count"], f["average_ms"]) for f in body["latency"]} == {
        "llm": (1, 120.0),
        "tool": (1, 300.0),
    }
    assert body["totals"]["sessions"] == 1
