"""Transcript, timeline and latency of a session, over HTTP and through the official syllable-sdk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from syllable_sdk import SyllableSDK, errors

from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions

T = "2024-06-19T10:{:02d}:{:02d}Z"


def _call() -> list[dict[str, Any]]:
    """One call, sent out of order: a latency before the first turn, a tool call with its own tool latency."""
    lat = {
        "category": "stt",
        "label": "stt_processing",
        "value": 0.25,
        "unit": "seconds",
        "metadata": ["Deepgram"],
    }
    tool = {
        "tool_call_id": "c1",
        "tool_name": "lookup_order",
        "tool_request": {"order": "A1"},
        "tool_result": {"status": "shipped"},
        "duration_ms": 420,
    }
    return [
        event("end", "session.ended", timestamp=T.format(1, 10)),
        event("t2", "transcript", timestamp=T.format(0, 9), data={"source": "user", "text": "Where is A1?"}),
        event("tool", "tool_call", timestamp=T.format(0, 12), data=tool),
        event(
            "t1",
            "transcript",
            timestamp=T.format(0, 4),
            data={"source": "agent", "text": "Hi!", "lang": "en-US"},
        ),
        event("start", "session.started", timestamp=T.format(0, 0), data={"agent_name": "Orders"}),
        event("lat0", "latency", timestamp=T.format(0, 2), data=lat),
        event(
            "toollat",
            "latency",
            timestamp=T.format(0, 12),
            data={"category": "tool", "label": "lookup_order", "value": 420, "unit": "milliseconds"},
        ),
        event(
            "llm",
            "latency",
            timestamp=T.format(0, 13),
            data={"category": "llm", "label": "llm_first_token", "value": 800000, "unit": "microseconds"},
        ),
        event("t3", "transcript", timestamp=T.format(0, 14), data={"source": "agent", "text": "It shipped."}),
    ]


@pytest.fixture
def call_id(client: httpx.Client, org: Org) -> str:
    ingest_ok(client, org.ingest, _call())
    return str(list_sessions(client, org.read)["items"][0]["session_id"])


def _get(client: httpx.Client, org: Org, what: str, session_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/sessions/{what}/{session_id}", headers=org.headers("read"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_transcript_lists_turns_and_actions_in_time_order(
    client: httpx.Client, org: Org, call_id: str
) -> None:
    body = _get(client, org, "transcript", call_id)
    assert body["session_id"] == call_id
    assert [t["text"] for t in body["transcription"]] == ["Hi!", "Where is A1?", "It shipped."]
    assert body["transcription"][0] == {
        "timestamp": "2024-06-19T10:00:04Z",
        "lang": "en-US",
        "source": "agent",
        "text": "Hi!",
    }
    (action,) = body["actions"]
    assert action["tool_name"] == "lookup_order"
    assert action["tool_request"] == '{"order":"A1"}'
    assert action["tool_result"] == '{"status":"shipped"}'
    assert action["tool_error"] is None
    assert action["duration_ms"] == 420


def test_timeline_merges_turns_tools_and_latency(client: httpx.Client, org: Org, call_id: str) -> None:
    body = _get(client, org, "timeline", call_id)
    assert body["session_start"] == "2024-06-19T10:00:00Z"
    rows = [
        (e["kind"], e["offset"], e["turn_index"], e.get("label") or e.get("text")) for e in body["events"]
    ]
    assert rows == [
        ("latency", "00:02", None, "stt_processing"),  # before the first turn
        ("transcript", "00:04", 0, "Hi!"),
        ("transcript", "00:09", 1, "Where is A1?"),
        ("tool", "00:12", 1, "lookup_order"),  # its tool latency is not repeated
        ("latency", "00:13", 1, "llm_first_token"),
        ("transcript", "00:14", 2, "It shipped."),
    ]
    assert body["events"][0]["duration_ms"] == 250.0
    assert body["events"][0]["metadata"] == ["Deepgram"]
    assert body["events"][4]["duration_ms"] == 800.0


def test_latency_timeline_and_summary(client: httpx.Client, org: Org, call_id: str) -> None:
    body = _get(client, org, "latency", call_id)
    assert [(e["category"], e["label"], e["value_str"], e["time_delta"]) for e in body["timeline"]] == [
        ("stt", "stt_processing", "250 ms", "00:02.000"),
        ("tool", "lookup_order", "420 ms", "00:12.000"),
        ("llm", "llm_first_token", "800 ms", "00:13.000"),
    ]
    assert body["timeline"][0]["unit_type"] == "seconds"
    assert body["timeline"][0]["measurement_start"] == "2024-06-19T10:00:02Z"
    summary = {(s["category"], s["sub_category"]): (s["event_count"], s["sum_ms"]) for s in body["summary"]}
    assert summary[("llm", None)] == (1, 800.0)
    assert summary[("stt", "stt_processing")] == (1, 250.0)
    assert summary[("tool", None)] == (1, 420.0)


def test_a_session_without_events_has_empty_views(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, [event("only", "session.started")])
    sid = list_sessions(client, org.read)["items"][0]["session_id"]
    assert _get(client, org, "transcript", sid)["transcription"] == []
    assert _get(client, org, "timeline", sid)["events"] == []
    assert _get(client, org, "latency", sid) == {"session_id": sid, "timeline": [], "summary": []}


@pytest.mark.parametrize("what", ["transcript", "timeline", "latency"])
def test_unknown_or_foreign_session_is_404(
    client: httpx.Client, org: Org, other_org: Org, call_id: str, what: str
) -> None:
    for session_id, who in (("999999", org), (call_id, other_org)):
        response = client.get(f"/api/v1/sessions/{what}/{session_id}", headers=who.headers("read"))
        assert response.status_code == 404


def test_official_client_reads_all_three(server: LiveServer, org: Org, call_id: str) -> None:
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        transcript = sdk.sessions.transcript.get_by_id(session_id=call_id)
        timeline = sdk.sessions.timeline.get_by_id(session_id=call_id)
        latency = sdk.sessions.latency.get_by_id(session_id=call_id)
        assert [t.text for t in transcript.transcription] == ["Hi!", "Where is A1?", "It shipped."]
        assert transcript.actions[0].tool_name == "lookup_order"
        assert [e.kind for e in timeline.events] == [
            "latency",
            "transcript",
            "transcript",
            "tool",
            "latency",
            "transcript",
        ]
        assert timeline.events[3].turn_index == 1
        assert [e.label for e in latency.timeline] == ["stt_processing", "lookup_order", "llm_first_token"]
        assert latency.summary is not None
        assert {s.category for s in latency.summary} == {"stt", "tool", "llm"}
        with pytest.raises(errors.APIError) as failure:
            sdk.sessions.timeline.get_by_id(session_id="999999")
        assert failure.value.status_code == 404
