"""GET /api/v1/metrics: every figure, from the rollups and from the sessions alike, kept exact as
sessions change (late events, a new label, another agent), filters, day ranges and bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from sessionary.db import Database, session_scope
from sessionary.metrics import catchup, rollup
from sessionary.metrics.contributions import bin_value, latency_bin
from sessionary.sessions.models import Session
from tests.conftest import Org
from tests.console.data import call, ingest_calls, session_ids
from tests.helpers import event, ingest_ok

RANGE = {"start_datetime": "2024-06-19T00:00:00Z", "end_datetime": "2024-06-22T00:00:00Z"}


def metrics(client: httpx.Client, org: Org, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/metrics", params={**RANGE, **params}, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def label(
    client: httpx.Client, org: Org, session_id: str, code: str, issues: list[str] | None = None
) -> None:
    body = {"session_id": int(session_id), "type": "human-rating", "code": code, "user_email": "q@x.io",
            "issue_categories": issues}  # fmt: skip
    assert client.post("/api/v1/session_labels/", json=body, headers=org.headers("read")).status_code == 200


@pytest.fixture
def calls(client: httpx.Client, org: Org) -> dict[str, str]:
    ingest_calls(
        client,
        org.ingest,
        [
            call("m1"),
            call("m2", agent="Billing Support", outbound=True, end="2024-06-19T10:00:30Z"),
            call("m3", agent="Billing Support", channel="web_chat_v1", start="2024-06-20T09:00:00Z",
                 end="2024-06-20T09:10:00Z"),
            call("m4", start="2024-06-21T09:00:00Z", end="2024-06-21T09:00:10Z", turns=False, test=True),
        ],
    )  # fmt: skip
    failing = {
        "tool_call_id": "c2",
        "tool_name": "lookup_patient",
        "tool_error": "timeout",
        "duration_ms": 5000,
    }
    ingest_ok(client, org.ingest, [event("m3-tc2", "tool_call", sid="m3", timestamp="2024-06-20T09:00:20Z",
                                         data=failing)])  # fmt: skip
    return session_ids(client, org.read)


def test_every_figure_for_a_known_set_of_sessions(
    client: httpx.Client, org: Org, calls: dict[str, str]
) -> None:
    label(client, org, calls["m1"], "BAD", ["tool_error", "long_silence"])
    label(client, org, calls["m3"], "GOOD", ["long_silence"])
    body = metrics(client, org)
    assert body["source"] == "rollup"
    assert body["start_datetime"] == "2024-06-19T00:00:00Z"
    assert body["end_datetime"] == "2024-06-22T00:00:00Z"
    assert body["totals"] == {"sessions": 4, "average_duration_seconds": 190.0, "tool_calls": 4,
                              "tool_error_rate": 0.25}  # fmt: skip
    assert body["sessions_per_day"] == [
        {"day": "2024-06-19", "channel_manager_type": "voice_sip_v1", "sessions": 2},
        {"day": "2024-06-20", "channel_manager_type": "web_chat_v1", "sessions": 1},
        {"day": "2024-06-21", "channel_manager_type": "voice_sip_v1", "sessions": 1},
    ]
    buckets = {b["bucket"]: b["sessions"] for b in body["duration_distribution"]}
    assert buckets == {"0-15 s": 1, "15-30 s": 0, "30-60 s": 1, "1-2 min": 0, "2-5 min": 1, "5-10 min": 0,
                       "10-20 min": 1, "20+ min": 0}  # fmt: skip
    assert body["labels_per_day"] == [
        {"day": "2024-06-19", "code": "BAD", "sessions": 1},
        {"day": "2024-06-19", "code": "none", "sessions": 1},
        {"day": "2024-06-20", "code": "GOOD", "sessions": 1},
        {"day": "2024-06-21", "code": "none", "sessions": 1},
    ]
    latency = {f["category"]: f for f in body["latency"]}
    assert list(latency) == ["stt", "llm", "tool"]
    assert latency["stt"]["count"] == 3
    assert latency["stt"]["average_ms"] == 200.0
    assert latency["stt"]["p50_ms"] == round(bin_value(latency_bin(200)), 1)
    assert abs(latency["stt"]["p50_ms"] - 200) / 200 < 0.045
    assert latency["tool"]["p50_ms"] == round(bin_value(latency_bin(300)), 1)
    assert latency["tool"]["p95_ms"] == round(bin_value(latency_bin(5000)), 1)
    assert body["top_tools"] == [
        {"tool_name": "lookup_patient", "calls": 4, "errors": 1, "error_rate": 0.25, "average_ms": 1475.0}
    ]
    assert body["top_issue_categories"] == [
        {"category": "long_silence", "sessions": 2},
        {"category": "tool_error", "sessions": 1},
    ]
    assert body["journey"] == {"sessions": 0, "pageviews": 0, "top_referrer_media": [], "top_campaigns": []}


def _figures(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "source"}


@pytest.mark.parametrize(
    "params",
    [{}, {"agent_name": "Billing Support"}, {"direction": "outbound"}, {"is_test": "false"},
     {"channel_manager_type": "web_chat_v1", "session_type": "chat"}, {"prompt_name": "nobody"}],
)  # fmt: skip
def test_rollups_give_the_same_figures_as_the_sessions(
    client: httpx.Client, org: Org, calls: dict[str, str], params: dict[str, str]
) -> None:
    label(client, org, calls["m2"], "OK", ["slow"])
    from_rollups = metrics(client, org, **params)
    # min_duration=0 holds for every ended session: same sessions, but only the sessions can answer it.
    from_sessions = metrics(client, org, **params, min_duration="0")
    assert (from_rollups["source"], from_sessions["source"]) == ("rollup", "sessions")
    assert _figures(from_rollups) == _figures(from_sessions)


def test_filters_narrow_the_figures(client: httpx.Client, org: Org, calls: dict[str, str]) -> None:
    assert metrics(client, org, agent_name="Billing Support")["totals"]["sessions"] == 2
    assert metrics(client, org, direction="inbound")["totals"]["sessions"] == 3
    assert metrics(client, org, is_test="true")["totals"]["sessions"] == 1
    assert metrics(client, org, label_code="none")["totals"]["sessions"] == 4
    assert metrics(client, org, max_duration="60")["totals"]["sessions"] == 2
    narrow = metrics(client, org, start_datetime="2024-06-20T12:00:00Z", end_datetime="2024-06-20T13:00:00Z")
    assert narrow["start_datetime"] == "2024-06-20T00:00:00Z"
    assert narrow["end_datetime"] == "2024-06-21T00:00:00Z"
    assert narrow["totals"]["sessions"] == 1


def test_changes_after_a_first_look_move_the_figures(
    client: httpx.Client, org: Org, calls: dict[str, str]
) -> None:
    assert metrics(client, org, agent_name="Front Desk")["totals"]["sessions"] == 0
    # m1 moves to another agent, gains a latency event, and gets two labels.
    updated = {"agent_name": "Front Desk"}
    ingest_ok(client, org.ingest, [
        event("m1-u", "session.updated", sid="m1", timestamp="2024-06-19T10:01:00Z", data=updated),
        event("m1-l9", "latency", sid="m1", timestamp="2024-06-19T10:01:30Z",
              data={"category": "tts", "label": "tts_first_byte", "value": 0.5, "unit": "seconds"}),
    ])  # fmt: skip
    label(client, org, calls["m1"], "BAD")
    label(client, org, calls["m1"], "GOOD")
    moved = metrics(client, org, agent_name="Front Desk")
    assert moved["totals"]["sessions"] == 1
    assert {f["category"]: f["count"] for f in moved["latency"]} == {"stt": 1, "llm": 1, "tts": 1, "tool": 1}
    assert moved["labels_per_day"] == [{"day": "2024-06-19", "code": "GOOD", "sessions": 1}]
    assert metrics(client, org, agent_name="Pharmacy Refills")["totals"]["sessions"] == 1
    everything = metrics(client, org)
    assert everything["totals"]["sessions"] == 4
    assert _figures(everything) == _figures(metrics(client, org, min_duration="0"))
    # An earlier session.started moves m1 to the day before, out of the range.
    ingest_ok(
        client, org.ingest, [event("m1-s0", "session.started", sid="m1", timestamp="2024-06-18T23:00:00Z")]
    )
    assert metrics(client, org)["totals"]["sessions"] == 3
    wider = metrics(client, org, start_datetime="2024-06-18T00:00:00Z")
    assert wider["sessions_per_day"][0] == {"day": "2024-06-18", "channel_manager_type": "voice_sip_v1",
                                            "sessions": 1}  # fmt: skip
    assert _figures(wider) == _figures(metrics(client, org, start_datetime="2024-06-18", min_duration="0"))


def test_record_rollups_and_the_catch_up_count_each_change_once(
    client: httpx.Client, database: Database, org: Org, calls: dict[str, str]
) -> None:
    ids = [int(i) for i in calls.values()]
    with session_scope(database.writer) as db:
        assert rollup.record_rollups(db, organization_id=org.id, session_ids=ids) == 4
        assert rollup.record_rollups(db, organization_id=org.id, session_ids=ids) == 0
    with session_scope(database.reader) as db:
        assert catchup.pending_session_ids(db, organization_id=org.id) == []
    assert metrics(client, org)["totals"]["sessions"] == 4
    assert _figures(metrics(client, org)) == _figures(metrics(client, org, min_duration="0"))


def test_a_deleted_session_with_a_label_and_events_leaves_every_figure(
    client: httpx.Client, database: Database, org: Org, calls: dict[str, str]
) -> None:
    label(client, org, calls["m1"], "BAD", ["tool_error"])
    before = metrics(client, org)
    assert before["totals"]["sessions"] == 4
    # Nothing deletes a call today; the journey writer deletes merged web sessions the same way.
    with session_scope(database.writer) as db:
        db.execute(delete(Session).where(Session.id == int(calls["m1"])))
    after = metrics(client, org)
    assert after["totals"]["sessions"] == 3
    assert after["top_issue_categories"] == []
    assert after["latency"] != before["latency"]
    assert _figures(after) == _figures(metrics(client, org, min_duration="0"))
    assert _figures(metrics(client, org, agent_name="Pharmacy Refills")) == _figures(
        metrics(client, org, agent_name="Pharmacy Refills", min_duration="0")
    )


def test_organizations_do_not_see_each_others_figures(
    client: httpx.Client, org: Org, other_org: Org, calls: dict[str, str]
) -> None:
    assert metrics(client, other_org)["totals"]["sessions"] == 0
    assert metrics(client, org)["totals"]["sessions"] == 4


@pytest.mark.parametrize(
    ("params", "status", "name"),
    [
        ({"start_datetime": "yesterday"}, 400, "start_datetime"),
        ({"label_code": "MEH"}, 422, "label_code"),
        ({"direction": "sideways"}, 422, "direction"),
        ({"min_duration": "-1"}, 422, "min_duration"),
        ({"is_test": "maybe"}, 422, "is_test"),
        ({"agent_name": "a\x00b"}, 400, "agent_name"),
    ],
)
def test_bad_parameters_are_4xx_naming_the_parameter(
    client: httpx.Client, org: Org, params: dict[str, str], status: int, name: str
) -> None:
    response = client.get("/api/v1/metrics", params=params, headers=org.headers("read"))
    assert response.status_code == status
    assert name in response.text


def test_metrics_need_a_read_key(client: httpx.Client, org: Org) -> None:
    assert client.get("/api/v1/metrics").status_code == 401
    assert client.get("/api/v1/metrics", headers=org.headers("ingest")).status_code == 403


def test_cli_refresh_rolls_up_what_changed(
    client: httpx.Client, database_url: str, org: Org, calls: dict[str, str]
) -> None:
    from typer.testing import CliRunner

    from sessionary.cli import app

    env = {"SESSIONARY_DATABASE_URL": database_url}
    first = CliRunner().invoke(app, ["metrics", "refresh", "--org", org.name], env=env)
    assert first.exit_code == 0, first.output
    assert "rolled up 4 sessions" in first.output
    again = CliRunner().invoke(app, ["metrics", "refresh", "--org", org.name], env=env)
    assert "rolled up 0 sessions" in again.output
    unknown = CliRunner().invoke(app, ["metrics", "refresh", "--org", "no-such-org"], env=env)
    assert unknown.exit_code == 1


@pytest.mark.parametrize(
    "params",
    [
        {"start_datetime": "9999-12-31T23:00:00Z", "end_datetime": "9999-12-31T23:30:00Z"},
        {"start_datetime": "1000-01-01T00:00:00Z", "end_datetime": "1000-01-01T01:00:00Z"},
        {"start_datetime": "2024-06-21T00:00:00Z", "end_datetime": "2024-06-19T00:00:00Z"},
    ],
)
def test_edge_ranges_answer_200_and_count_nothing(
    client: httpx.Client, org: Org, params: dict[str, str]
) -> None:
    response = client.get("/api/v1/metrics", params=params, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    assert response.json()["totals"]["sessions"] == 0
