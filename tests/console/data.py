"""A small, known set of sessions for console tests, ingested through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import event, ingest_ok


def call(
    sid: str,
    *,
    start: str = "2024-06-19T10:00:00Z",
    end: str = "2024-06-19T10:02:00Z",
    agent: str = "Pharmacy Refills",
    channel: str = "voice_sip_v1",
    outbound: bool = False,
    test: bool = False,
    conversation: str | None = None,
    turns: bool = True,
) -> list[dict[str, Any]]:
    """The events of one call: started, two turns with latency and a tool call between them, ended."""
    started = {
        "channel_manager_type": channel,
        "agent_name": agent,
        "prompt_name": f"{agent} prompt",
        "is_outbound": outbound,
        "is_test": test,
        "source": "+15550001",
    }
    if conversation:
        started["conversation_id"] = conversation
    events = [event(f"{sid}-s", "session.started", sid=sid, timestamp=start, data=started)]
    if turns:
        day = start[:10]
        ms = "milliseconds"
        lookup = {
            "tool_call_id": "c1",
            "tool_name": "lookup_patient",
            "tool_request": {"dob": "1972"},
            "tool_result": {"ok": True},
            "duration_ms": 300,
        }
        events += [
            event(f"{sid}-t1", sid=sid, timestamp=f"{day}T10:00:05Z",
                  data={"source": "user", "text": "I need a refill"}),
            event(f"{sid}-l1", "latency", sid=sid, timestamp=f"{day}T10:00:06Z",
                  data={"category": "stt", "label": "stt_processing", "value": 200, "unit": ms}),
            event(f"{sid}-l2", "latency", sid=sid, timestamp=f"{day}T10:00:06Z",
                  data={"category": "llm", "label": "llm_first_token", "value": 800, "unit": ms}),
            event(f"{sid}-tc", "tool_call", sid=sid, timestamp=f"{day}T10:00:07Z", data=lookup),
            event(f"{sid}-t2", sid=sid, timestamp=f"{day}T10:00:09Z",
                  data={"source": "agent", "text": "Done, ready tomorrow."}),
        ]  # fmt: skip
    events.append(event(f"{sid}-e", "session.ended", sid=sid, timestamp=end, data={"user_terminated": True}))
    return events


def ingest_calls(client: httpx.Client, key: str, calls: list[list[dict[str, Any]]]) -> None:
    ingest_ok(client, key, [e for c in calls for e in c])


def session_ids(client: httpx.Client, key: str) -> dict[str, str]:
    """channel_manager_sid -> session_id of the organization's sessions."""
    body = client.get("/api/v1/sessions/", params={"limit": 1000}, headers={"Syllable-API-Key": key}).json()
    return {item["channel_manager_sid"]: item["session_id"] for item in body["items"]}
