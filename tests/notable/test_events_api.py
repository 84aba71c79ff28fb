"""Notable events: the `custom` ingest type and its validation, how tool calls and voicemail transfers map,
idempotency, the session's current conversation_id, the shared list contract over EventProperties,
organizations apart, and auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions, post_events

EVENTS = "/api/v1/events/"


def events(client: httpx.Client, org: Org, **params: Any) -> dict[str, Any]:
    response = client.get(EVENTS, params=params, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def custom(event_id: str, at: str, sid: str = "call-1", **data: Any) -> dict[str, Any]:
    return event(event_id, "custom", sid=sid, timestamp=at, data={"type": "escalation", **data})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "type"),
        ({"type": ""}, "type"),
        ({"type": "x" * 201}, "type"),
        ({"type": "t", "source": 5}, "source"),
        ({"type": "t", "source_id": ["a"]}, "source_id"),
        ({"type": "t", "category": "c" * 201}, "category"),
        ({"type": "t", "user_id": 18042221111}, "user_id"),
        ({"type": "t", "description": "d" * 2001}, "description"),
        ({"type": "t", "attributes": ["not", "an", "object"]}, "attributes"),
        ({"type": "t", "attributes": "text"}, "attributes"),
        ({"type": "t", "severity": "high"}, "severity"),
    ],
)
def test_invalid_custom_event_is_422_naming_the_field(
    client: httpx.Client, org: Org, data: dict[str, Any], field: str
) -> None:
    ok = event("fine", "transcript")
    response = post_events(client, org.ingest, [ok, event("bad", "custom", data=data)])
    assert response.status_code == 422
    locs = [err["loc"] for err in response.json()["detail"]]
    assert any(field in loc and 1 in loc for loc in locs), locs
    assert list_sessions(client, org.read)["total_count"] == 0  # nothing of the batch was stored


SESSION = [
    event("s", "session.started", sid="call-1", timestamp="2024-06-19T10:00:00Z", data={"source": "+1804"}),
    event(
        "t1",
        "tool_call",
        timestamp="2024-06-19T10:00:10Z",
        data={"tool_call_id": "c1", "tool_name": "lookup_patient", "tool_request": {}, "duration_ms": 120.4},
    ),
    event(
        "t2",
        "tool_call",
        timestamp="2024-06-19T10:00:20Z",
        data={
            "tool_call_id": "c2",
            "tool_name": "lookup_order",
            "tool_error": {"code": "TIMEOUT", "message": "billing API did not answer"},
            "duration_ms": 5000,
        },
    ),
    event(
        "t3",
        "tool_call",
        timestamp="2024-06-19T10:00:30Z",
        data={
            "tool_call_id": "c3",
            "tool_name": "transfer_call",
            "tool_request": {"destination": "+18042221111"},
        },
    ),
    event(
        "t4",
        "tool_call",
        timestamp="2024-06-19T10:00:35Z",
        data={"tool_call_id": "c4", "tool_name": "warmTransfer", "tool_error": False},
    ),
    custom(
        "cu",
        "2024-06-19T10:00:40Z",
        source="ivr",
        source_id="menu-7",
        category="handoff",
        user_id="+18042221111",
        description="Caller asked for a human",
        attributes={"queue": "billing", "wait_s": 12},
    ),
    event("tr", "transcript", timestamp="2024-06-19T10:00:45Z"),
    event(
        "e",
        "session.ended",
        timestamp="2024-06-19T10:01:00Z",
        data={"transfer_voicemail_detected": True, "user_terminated": False},
    ),
]
EXPECTED = [  # newest first
    {
        "timestamp": "2024-06-19T10:01:00Z",
        "source": "session",
        "source_id": None,
        "category": "transfer",
        "type": "voicemail-transfer",
        "user_id": None,
        "description": "Transfer reached voicemail",
        "attributes": {"transfer_voicemail_detected": True, "user_terminated": False},
    },
    {
        "timestamp": "2024-06-19T10:00:40Z",
        "source": "ivr",
        "source_id": "menu-7",
        "category": "handoff",
        "type": "escalation",
        "user_id": "+18042221111",
        "description": "Caller asked for a human",
        "attributes": {"queue": "billing", "wait_s": 12},
    },
    {
        "timestamp": "2024-06-19T10:00:35Z",
        "source": "tool-call",
        "source_id": "warmTransfer",
        "category": "transfer",
        "type": "transfer",
        "user_id": None,
        "description": "Transfer via warmTransfer",
        "attributes": {"tool_call_id": "c4"},
    },
    {
        "timestamp": "2024-06-19T10:00:30Z",
        "source": "tool-call",
        "source_id": "transfer_call",
        "category": "transfer",
        "type": "transfer",
        "user_id": None,
        "description": "Transfer to +18042221111",
        "attributes": {"tool_call_id": "c3", "destination": "+18042221111"},
    },
    {
        "timestamp": "2024-06-19T10:00:20Z",
        "source": "tool-call",
        "source_id": "lookup_order",
        "category": "automation",
        "type": "tool-error",
        "user_id": None,
        "description": "Tool lookup_order failed: billing API did not answer",
        "attributes": {
            "tool_call_id": "c2",
            "duration_ms": 5000.0,
            "tool_error": {"code": "TIMEOUT", "message": "billing API did not answer"},
        },
    },
    {
        "timestamp": "2024-06-19T10:00:10Z",
        "source": "tool-call",
        "source_id": "lookup_patient",
        "category": "automation",
        "type": "tool-call",
        "user_id": None,
        "description": "Tool lookup_patient called (120 ms)",
        "attributes": {"tool_call_id": "c1", "duration_ms": 120.4},
    },
]


def _without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in ("session_id", "conversation_id")} for item in items]


def test_tool_calls_transfers_errors_and_custom_events_are_listed(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, SESSION)
    page = events(client, org)
    assert page["total_count"] == len(EXPECTED)
    assert _without_ids(page["items"]) == EXPECTED
    session_id = list_sessions(client, org.read)["items"][0]["session_id"]
    assert {i["session_id"] for i in page["items"]} == {session_id}
    assert {i["conversation_id"] for i in page["items"]} == {None}


def test_resent_and_out_of_order_events_make_each_notable_event_once(client: httpx.Client, org: Org) -> None:
    for one in reversed(SESSION):
        ingest_ok(client, org.ingest, [one])
    result = ingest_ok(client, org.ingest, SESSION)
    assert result == {"inserted": 0, "duplicates": len(SESSION)}
    ingest_ok(client, org.ingest, [*SESSION[:3], *SESSION[:3]])
    assert _without_ids(events(client, org)["items"]) == EXPECTED


def test_conversation_id_is_the_sessions_current_one(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, SESSION)
    assert (
        events(client, org, search_fields="conversation_id", search_field_values="conv")["total_count"] == 0
    )
    named = event(
        "u1", "session.updated", timestamp="2024-06-19T10:02:00Z", data={"conversation_id": "conv-9"}
    )
    ingest_ok(client, org.ingest, [named])
    page = events(client, org, search_fields="conversation_id", search_field_values="CONV-9")
    assert page["total_count"] == len(EXPECTED)
    assert {i["conversation_id"] for i in page["items"]} == {"conv-9"}


@pytest.fixture
def two_sessions(client: httpx.Client, org: Org) -> dict[str, str]:
    """Notable events in two sessions (conv-a, conv-b); returns sid -> session_id."""
    ingest_ok(client, org.ingest, SESSION)
    other = [
        event(
            "o-s",
            "session.started",
            sid="call-2",
            timestamp="2024-06-20T09:00:00Z",
            data={"conversation_id": "conv-b"},
        ),
        custom(
            "o-c",
            "2024-06-20T09:00:05Z",
            sid="call-2",
            source="crm",
            user_id="+15550001111",
            attributes={"x": "ÿ%_"},
        ),
        event(
            "o-u",
            "session.updated",
            sid="call-1",
            timestamp="2024-06-19T10:02:00Z",
            data={"conversation_id": "conv-a"},
        ),
    ]
    ingest_ok(client, org.ingest, other)
    return {s["channel_manager_sid"]: s["session_id"] for s in list_sessions(client, org.read)["items"]}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("source", "TOOL", ["10:00:35", "10:00:30", "10:00:20", "10:00:10"]),
        ("source_id", "transfer", ["10:00:35", "10:00:30"]),
        ("category", "transfer", ["10:01:00", "10:00:35", "10:00:30"]),
        ("type", "tool-error", ["10:00:20"]),
        ("type", "escalation", ["09:00:05", "10:00:40"]),
        ("user_id", "+1804", ["10:00:40"]),
        ("description", "voicemail", ["10:01:00"]),
        ("attributes", "billing", ["10:00:40", "10:00:20"]),
        ("attributes", "%_", ["09:00:05"]),
        ("conversation_id", "conv-b", ["09:00:05"]),
        ("timestamp", "2024-06-20", ["09:00:05"]),
        ("timestamp", "2024-06-19T10:00:30Z", ["10:00:30"]),
    ],
)
def test_every_search_field(
    client: httpx.Client, org: Org, two_sessions: dict[str, str], field: str, value: str, expected: list[str]
) -> None:
    page = events(client, org, search_fields=field, search_field_values=value)
    assert [i["timestamp"][11:19] for i in page["items"]] == expected
    assert page["total_count"] == len(expected)


def test_search_by_session_id_is_exact(client: httpx.Client, org: Org, two_sessions: dict[str, str]) -> None:
    page = events(client, org, search_fields="session_id", search_field_values=two_sessions["call-2"])
    assert [i["session_id"] for i in page["items"]] == [two_sessions["call-2"]]
    both = events(
        client,
        org,
        search_fields=["session_id", "type"],
        search_field_values=[two_sessions["call-1"], "escalation"],
    )
    assert [i["timestamp"] for i in both["items"]] == ["2024-06-19T10:00:40Z"]


@pytest.mark.parametrize(
    ("order_by", "direction", "expected"),
    [
        ("timestamp", "asc", ["10:00:10", "10:00:20", "10:00:30"]),
        ("timestamp", "desc", ["09:00:05", "10:01:00", "10:00:40"]),
        ("session_id", "desc", ["09:00:05", "10:01:00", "10:00:40"]),
        ("conversation_id", "desc", ["09:00:05", "10:01:00", "10:00:40"]),
        ("source", "asc", ["09:00:05", "10:00:40", "10:01:00"]),
        ("source_id", "asc", ["10:00:20", "10:00:10", "10:00:40"]),
        ("category", "asc", ["10:00:10", "10:00:20", "10:00:40"]),
        ("type", "desc", ["10:01:00", "10:00:35", "10:00:30"]),
        ("user_id", "asc", ["09:00:05", "10:00:40", "10:00:10"]),  # NULLs last
        ("description", "asc", ["10:00:40", "10:00:20", "10:00:10"]),
    ],
)
def test_every_order(
    client: httpx.Client,
    org: Org,
    two_sessions: dict[str, str],
    order_by: str,
    direction: str,
    expected: list[str],
) -> None:
    page = events(client, org, order_by=order_by, order_by_direction=direction, limit=3)
    assert [i["timestamp"][11:19] for i in page["items"]] == expected


def test_order_by_attributes_is_accepted(
    client: httpx.Client, org: Org, two_sessions: dict[str, str]
) -> None:
    page = events(client, org, order_by="attributes", order_by_direction="asc")
    assert page["total_count"] == 7
    assert len({i["timestamp"] for i in page["items"]}) == 7  # JSON order differs by database: any order


def test_paging_time_window_and_projection(
    client: httpx.Client, org: Org, two_sessions: dict[str, str]
) -> None:
    pages = [events(client, org, limit=3, page=n) for n in range(3)]
    assert [(p["page"], p["page_size"], p["total_pages"], p["total_count"]) for p in pages] == [
        (0, 3, 3, 7),
        (1, 3, 3, 7),
        (2, 3, 3, 7),
    ]
    stamps = [i["timestamp"] for p in pages for i in p["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert len(set(stamps)) == 7
    window = events(client, org, start_datetime="2024-06-19T10:00:20Z", end_datetime="2024-06-19T10:00:40Z")
    assert [i["timestamp"][11:19] for i in window["items"]] == ["10:00:35", "10:00:30", "10:00:20"]
    projected = events(client, org, fields=["type", "conversation_id"])["items"][0]
    assert projected == {
        "timestamp": "2024-06-20T09:00:05Z",
        "type": "escalation",
        "conversation_id": "conv-b",
    }


@pytest.mark.parametrize(
    ("params", "status", "where"),
    [
        ({"search_fields": "severity", "search_field_values": "x"}, 422, "search_fields"),
        ({"order_by": "event_id"}, 422, "order_by"),
        ({"fields": "data"}, 422, "fields"),
        ({"search_fields": "session_id", "search_field_values": "call-1"}, 400, "session_id"),
        ({"search_fields": ["type", "source"], "search_field_values": "x"}, 400, "search_field_values"),
        ({"end_datetime": "2024-13-01"}, 400, "end_datetime"),
        ({"page": "first"}, 422, "page"),
    ],
)
def test_bad_list_parameters_name_the_parameter(
    client: httpx.Client, org: Org, params: dict[str, Any], status: int, where: str
) -> None:
    response = client.get(EVENTS, params=params, headers=org.headers("read"))
    assert response.status_code == status, response.text
    assert where in str(response.json()["detail"])


def test_organizations_never_see_each_other(client: httpx.Client, org: Org, other_org: Org) -> None:
    ingest_ok(client, org.ingest, [custom("same-id", "2024-06-19T10:00:00Z", description="mine")])
    ingest_ok(client, other_org.ingest, [custom("same-id", "2024-06-19T10:00:00Z", description="theirs")])
    assert [i["description"] for i in events(client, org)["items"]] == ["mine"]
    assert [i["description"] for i in events(client, other_org)["items"]] == ["theirs"]
    theirs = events(client, other_org)["items"][0]["session_id"]
    assert events(client, org, search_fields="session_id", search_field_values=theirs)["total_count"] == 0


@pytest.mark.parametrize(("scope", "status"), [(None, 401), ("ingest", 403), ("read", 200), ("admin", 200)])
def test_listing_needs_a_read_key(client: httpx.Client, org: Org, scope: str | None, status: int) -> None:
    headers = org.headers(scope) if scope else {}
    assert client.get(EVENTS, headers=headers).status_code == status
