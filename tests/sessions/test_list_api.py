"""GET /api/v1/sessions/: every list parameter, ordering, paging edges, projection, and their errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionary.sessions.schemas import SessionProperties, SessionRead
from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions

AGENTS = ["Pharmacy Refills", "Clinic Scheduling", "Billing Support"]


def _seed(client: httpx.Client, org: Org, count: int = 12) -> None:
    """`count` sessions, one minute apart on 2024-06-10..; attributes vary with the index."""
    events = []
    for i in range(count):
        ts = f"2024-06-{10 + i // 4:02d}T10:{i:02d}:00Z"
        data: dict[str, Any] = {
            "agent_name": AGENTS[i % 3],
            "agent_id": str(100 + i % 3),
            "agent_type": "ai_agent",
            "prompt_id": str(i % 2),
            "prompt_name": f"Prompt {i % 2}",
            "channel_manager_type": ["voice_sip_v1", "web_chat_v1"][i % 2],
            "conversation_id": f"conv-{i // 2}",
            "source": f"+1555000{i:04d}",
            "target": f"line-{i % 4}",
            "is_outbound": i % 3 == 0,
            "is_test": i % 5 == 0,
            "is_legacy": False,
        }
        sid = f"s-{i:02d}"
        service = ["hedy", "twilio"][i % 2]
        events.append(event(f"{sid}-a", "session.started", sid=sid, service=service, timestamp=ts, data=data))
        end = f"2024-06-{10 + i // 4:02d}T11:{i:02d}:00Z"
        events.append(
            event(
                f"{sid}-z",
                "session.ended",
                sid=sid,
                service=service,
                timestamp=end,
                data={"duration": i * 10},
            )
        )
    ingest_ok(client, org.ingest, events)


def _get(client: httpx.Client, org: Org, params: Any) -> httpx.Response:
    return client.get("/api/v1/sessions/", params=params, headers=org.headers("read"))


def test_default_order_is_newest_first_with_envelope(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    page = list_sessions(client, org.read, limit=5)
    assert (page["page"], page["page_size"], page["total_count"], page["total_pages"]) == (0, 5, 12, 3)
    stamps = [item["timestamp"] for item in page["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert page["items"][0]["channel_manager_sid"] == "s-11"
    assert set(page["items"][0]) == set(SessionRead.model_fields)


@pytest.mark.parametrize("prop", [p.value for p in SessionProperties])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_order_by_every_property(client: httpx.Client, org: Org, prop: str, direction: str) -> None:
    _seed(client, org)
    items = list_sessions(client, org.read, order_by=prop, order_by_direction=direction, limit=100)["items"]
    assert len(items) == 12

    def key(item: dict[str, Any]) -> Any:
        value = item[prop]
        return int(value) if prop == "session_id" else value

    assert [key(i) for i in items] == sorted((key(i) for i in items), reverse=direction == "desc")


def test_string_search_is_case_insensitive_substring(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    page = list_sessions(client, org.read, search_fields="agent_name", search_field_values="BILLING")
    assert page["total_count"] == 4
    assert {i["agent_name"] for i in page["items"]} == {"Billing Support"}


def test_like_wildcards_in_search_values_are_literal(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    assert (
        list_sessions(client, org.read, search_fields="agent_name", search_field_values="%")["total_count"]
        == 0
    )
    assert (
        list_sessions(client, org.read, search_fields="agent_name", search_field_values="_")["total_count"]
        == 0
    )


def test_paired_searches_combine_with_and(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    params = [
        ("search_fields", "agent_name"),
        ("search_fields", "is_outbound"),
        ("search_field_values", "pharmacy"),
        ("search_field_values", "true"),
    ]
    response = _get(client, org, params)
    assert response.status_code == 200
    items = response.json()["items"]
    assert items
    assert all(i["agent_name"] == "Pharmacy Refills" and i["is_outbound"] is True for i in items)
    assert response.json()["total_count"] == 4  # i % 3 == 0 among 12


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("is_test", "true", 3),
        ("is_test", "false", 9),
        ("duration", "30", 1),
        ("channel_manager_type", "web_chat", 6),
        ("timestamp", "2024-06-11", 4),
        ("timestamp", "2024-06-11T10:05:00Z", 1),
        ("conversation_id", "conv-1", 2),  # conv-0 .. conv-5, two sessions each
    ],
)
def test_search_by_kind(client: httpx.Client, org: Org, field: str, value: str, expected: int) -> None:
    _seed(client, org)
    page = list_sessions(client, org.read, search_fields=field, search_field_values=value)
    assert page["total_count"] == expected


def test_search_by_session_id_is_exact(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    some = list_sessions(client, org.read, limit=1)["items"][0]
    page = list_sessions(client, org.read, search_fields="session_id", search_field_values=some["session_id"])
    assert [i["session_id"] for i in page["items"]] == [some["session_id"]]


def test_time_range_start_inclusive_end_exclusive(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    page = list_sessions(
        client, org.read, start_datetime="2024-06-10T10:01:00Z", end_datetime="2024-06-10T10:03:00Z"
    )
    assert [i["channel_manager_sid"] for i in page["items"]] == ["s-02", "s-01"]
    naive = list_sessions(client, org.read, start_datetime="2024-06-12T00:00:00")
    assert naive["total_count"] == 4  # naive = UTC


def test_paging_edges(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    last = list_sessions(client, org.read, page=2, limit=5)
    assert (len(last["items"]), last["total_pages"], last["total_count"]) == (2, 3, 12)
    beyond = list_sessions(client, org.read, page=9, limit=5)
    assert (beyond["items"], beyond["total_count"], beyond["page"]) == ([], 12, 9)
    empty = list_sessions(client, org.read, limit=0)
    assert (empty["items"], empty["total_count"], empty["total_pages"]) == ([], 12, 0)
    seen = [
        i["session_id"] for p in range(3) for i in list_sessions(client, org.read, page=p, limit=5)["items"]
    ]
    assert len(seen) == len(set(seen)) == 12


def test_fields_projection_keeps_timestamp(client: httpx.Client, org: Org) -> None:
    _seed(client, org)
    response = _get(client, org, [("fields", "agent_name"), ("fields", "duration"), ("limit", 3)])
    assert response.status_code == 200
    for item in response.json()["items"]:
        assert set(item) == {"timestamp", "agent_name", "duration"}


def test_empty_organization_lists_nothing(client: httpx.Client, org: Org) -> None:
    page = list_sessions(client, org.read)
    assert (page["items"], page["total_count"], page["total_pages"]) == ([], 0, 0)


@pytest.mark.parametrize(
    ("params", "status", "names"),
    [
        ({"start_datetime": "yesterday"}, 400, "start_datetime"),
        ({"end_datetime": "2024-13-01T00:00:00Z"}, 400, "end_datetime"),
        ({"search_fields": "agent_name"}, 400, "search_field_values"),
        ({"search_field_values": "x"}, 400, "search_fields"),
        ({"search_fields": "is_test", "search_field_values": "maybe"}, 400, "is_test"),
        ({"search_fields": "duration", "search_field_values": "long"}, 400, "duration"),
        ({"search_fields": "session_id", "search_field_values": "1.5"}, 400, "session_id"),
        ({"search_fields": "timestamp", "search_field_values": "nope"}, 400, "timestamp"),
        ({"search_fields": "colour", "search_field_values": "x"}, 422, "search_fields"),
        ({"order_by": "colour"}, 422, "order_by"),
        ({"order_by_direction": "sideways"}, 422, "order_by_direction"),
        ({"fields": "colour"}, 422, "fields"),
        ({"page": -1}, 422, "page"),
        ({"limit": "ten"}, 422, "limit"),
        ({"limit": 100000}, 422, "limit"),
    ],
)
def test_bad_list_parameters_are_refused_naming_the_field(
    client: httpx.Client, org: Org, params: dict[str, Any], status: int, names: str
) -> None:
    response = _get(client, org, params)
    assert response.status_code == status
    assert names in response.text
    detail = response.json()["detail"]
    if status == 400:
        assert isinstance(detail, str)
    else:
        assert detail[0]["loc"][0] == "query"
        assert names in detail[0]["loc"]


def test_get_by_id_returns_the_session_as_a_string_id(client: httpx.Client, org: Org) -> None:
    _seed(client, org, count=2)
    listed = list_sessions(client, org.read)["items"][0]
    response = client.get(f"/api/v1/sessions/{listed['session_id']}", headers=org.headers("read"))
    assert response.status_code == 200
    assert response.json() == listed
    assert isinstance(response.json()["session_id"], str)


@pytest.mark.parametrize("session_id", ["999999999", "abc", "-1", "99999999999999999999999"])
def test_get_unknown_session_is_404(client: httpx.Client, org: Org, session_id: str) -> None:
    response = client.get(f"/api/v1/sessions/{session_id}", headers=org.headers("read"))
    assert response.status_code == 404
    assert session_id in response.json()["detail"]
