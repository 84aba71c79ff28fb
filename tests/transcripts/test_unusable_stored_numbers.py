"""Events stored before ingest bounded numbers (issue 11, item 5) never make a read fail: a latency value
or tool duration that is null (a non-finite number was written as null), 1e308 (infinite once in
milliseconds, or summed) or an integer past 64 bits is left out of every figure, on every database.

The bad rows are written straight into the event table, as the ingest of that time wrote them."""

from __future__ import annotations

import math
import uuid
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.eventlog import store as events_store
from sessionary.fastsql import column_when, is_sqlite
from sessionary.transcripts.formatting import usable_ms
from tests.conftest import Org
from tests.console.helpers import signed_in
from tests.helpers import event, ingest_ok, list_sessions

READ = "2024-06-19T10:00:{:02d}Z"
# `data` exactly as the ingest of that time stored it (pydantic's JSON: infinity written as null).
OLD_ROWS = [
    ("latency", '{"category":"llm","label":"from_infinity","value":null,"unit":"milliseconds"}'),
    ("latency", '{"category":"llm","label":"huge_minutes","value":1e308,"unit":"minutes"}'),
    ("latency", '{"category":"tts","label":"huge_ms","value":1e308,"unit":"milliseconds"}'),
    ("latency", '{"category":"stt","label":"huge_ms_again","value":1e308,"unit":"milliseconds"}'),
    ("tool_call", '{"tool_call_id":"old1","tool_name":"lookup","duration_ms":1e308}'),
    ("tool_call", '{"tool_call_id":"old2","tool_name":"lookup","duration_ms":null}'),
    ("tool_call", '{"tool_call_id":"old3","tool_name":"lookup","tool_request":{"n":1180591620717411303424}}'),
]


def good_session(client: httpx.Client, org: Org, sid: str) -> str:
    good = {"category": "llm", "label": "first_token", "value": 120, "unit": "milliseconds"}
    tool = {"tool_call_id": "t1", "tool_name": "lookup", "duration_ms": 300, "tool_request": {"id": 7}}
    ingest_ok(
        client,
        org.ingest,
        [
            event(f"{sid}-start", "session.started", sid=sid, data={"agent_name": "Refills"}),
            event(f"{sid}-t1", sid=sid, timestamp=READ.format(1), data={"source": "user", "text": "hello"}),
            event(f"{sid}-lat", "latency", sid=sid, timestamp=READ.format(2), data=good),
            event(f"{sid}-tool", "tool_call", sid=sid, timestamp=READ.format(3), data=tool),
            event(f"{sid}-t2", sid=sid, timestamp=READ.format(4), data={"source": "agent", "text": "hi"}),
            event(f"{sid}-end", "session.ended", sid=sid, timestamp=READ.format(40), data={}),
        ],
    )
    found = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)
    session_id: str = found["items"][0]["session_id"]
    return session_id


def write_old_rows(database: Database, org: Org, session_id: str) -> None:
    """OLD_ROWS into the event table of this session, as the ingest wrote them (driver-level insert)."""
    with session_scope(database.writer) as db:
        sqlite = is_sqlite(db)
        rows: list[events_store.NewEvent] = []
        for n, (kind, data) in enumerate(OLD_ROWS):
            at = utcnow().replace(year=2024, month=6, day=19, hour=10, minute=0, second=10 + n, microsecond=0)
            when = column_when(at, sqlite=sqlite)
            rows.append((f"old-{uuid.uuid4().hex}", int(session_id), kind, when, data))
        events_store.insert(db, organization_id=org.id, events=rows)


@pytest.fixture
def old_session(client: httpx.Client, database: Database, org: Org) -> str:
    """A session with good events and OLD_ROWS, in a fresh organization whose metrics are not rolled up."""
    session_id = good_session(client, org, f"old-{uuid.uuid4().hex[:8]}")
    write_old_rows(database, org, session_id)
    return session_id


def _get(client: httpx.Client, org: Org, path: str) -> Any:
    response = client.get(path, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()


def test_latency_lists_and_sums_only_the_measurements_a_reader_can_use(
    client: httpx.Client, org: Org, old_session: str
) -> None:
    body = _get(client, org, f"/api/v1/sessions/latency/{old_session}")
    assert [e["label"] for e in body["timeline"]] == ["first_token"]
    assert [(s["category"], s["sub_category"], s["sum_ms"]) for s in body["summary"]] == [
        ("llm", None, 120.0),
        ("llm", "first_token", 120.0),
    ]


def test_timeline_shows_every_event_and_a_null_duration_where_it_cannot_be_used(
    client: httpx.Client, org: Org, old_session: str
) -> None:
    events = _get(client, org, f"/api/v1/sessions/timeline/{old_session}")["events"]
    durations = {(e["kind"], e["label"]): e["duration_ms"] for e in events if e["kind"] != "transcript"}
    assert durations[("latency", "first_token")] == 120.0
    assert durations[("tool", "lookup")] is None  # the old calls; the good one is checked below
    assert sorted(d for d in durations.values() if d is not None) == [120.0]
    tools = [e for e in events if e["kind"] == "tool"]
    assert [e["duration_ms"] for e in tools] == [300.0, None, None, None]
    assert len([e for e in events if e["kind"] == "latency"]) == 5


def test_transcript_debug_and_auto_rating_of_a_session_with_old_numbers_answer(
    client: httpx.Client, org: Org, old_session: str
) -> None:
    actions = _get(client, org, f"/api/v1/sessions/transcript/{old_session}")["actions"]
    assert [a["duration_ms"] for a in actions] == [300.0, None, None, None]
    calls = [c for m in _get(client, org, f"/api/v1/session_debug/session_id/{old_session}")["messages"]
             for c in m["tool_calls"]]  # fmt: skip
    assert calls[-1]["tool_arguments"]["n"] == pytest.approx(2**70)  # read back as the nearest float
    rated = client.post(f"/api/v1/sessions/full-summary/{old_session}/recompute", headers=org.headers("read"))
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"] in ("Good", "Ok", "Bad")


def test_metrics_and_the_console_leave_out_old_numbers_and_count_the_rest(
    client: httpx.Client, org: Org, old_session: str, server: Any
) -> None:
    params = {"start_datetime": "2024-06-19T00:00:00Z", "end_datetime": "2024-06-20T00:00:00Z"}
    for extra in ({}, {"agent_name": "Refills"}, {"min_duration": "0"}):  # rollups twice, then the sessions
        response = client.get("/api/v1/metrics", params={**params, **extra}, headers=org.headers("read"))
        assert response.status_code == 200, response.text
        body = response.json()
        latency = {f["category"]: (f["count"], f["average_ms"]) for f in body["latency"]}
        assert latency == {"llm": (1, 120.0), "tool": (1, 300.0)}
        [lookup] = body["top_tools"]
        assert (lookup["calls"], lookup["average_ms"]) == (4, 75.0)  # four calls, one usable duration
    with signed_in(server.url, org.read) as console:
        overview = console.get("/overview", params={"range": "custom", "start": "2024-06-19T00:00",
                                                    "end": "2024-06-20T00:00"})  # fmt: skip
        assert overview.status_code == 200, overview.text
        assert console.get(f"/sessions/{old_session}").status_code == 200


def test_metrics_refresh_rolls_up_sessions_with_old_numbers(
    client: httpx.Client, org: Org, old_session: str, database_url: str, tmp_path: Any
) -> None:
    env = {"SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_BLOB_DIR": str(tmp_path / "blobs")}
    result = CliRunner().invoke(app, ["metrics", "refresh", "--org", org.name], env=env)
    assert result.exit_code == 0, result.output
    assert "rolled up 1 sessions" in result.output
    params = {"start_datetime": "2024-06-19T00:00:00Z", "end_datetime": "2024-06-20T00:00:00Z"}
    body = _get(client, org, f"/api/v1/metrics?start_datetime={params['start_datetime']}"
                             f"&end_datetime={params['end_datetime']}")  # fmt: skip
    assert all(math.isfinite(f["p95_ms"]) for f in body["latency"])
    assert body["totals"]["tool_calls"] == 4


@pytest.mark.parametrize(
    ("value", "unit"),
    [(None, "seconds"), ("12", "seconds"), (True, "seconds"), (12, None), (12, ["seconds"]),
     (12, "fortnights"), (1e308, "minutes"), (10**400, "nanoseconds"), (math.inf, "seconds"),
     (math.nan, "seconds"), (-1, "seconds"), (10_000_001, "seconds")],
)  # fmt: skip
def test_a_stored_value_no_reader_can_use_is_left_out_whatever_its_type(value: Any, unit: Any) -> None:
    assert usable_ms(value, unit) is None


def test_a_stored_value_in_range_is_read_in_milliseconds() -> None:
    assert usable_ms(2, "minutes") == 120_000.0
    assert usable_ms(10**7, "seconds") == 1e10
    assert usable_ms(5) == 5.0
