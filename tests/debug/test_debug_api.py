"""Session debug: the dialog as messages with their tool calls, by session or producer ids; tool results."""

from __future__ import annotations

import httpx
import pytest
from syllable_sdk import SyllableSDK, errors

from tests.conftest import Org
from tests.helpers import LiveServer, ingest_ok, list_sessions
from tests.transcripts.test_transcripts_api import _call


@pytest.fixture
def call_id(client: httpx.Client, org: Org) -> int:
    ingest_ok(client, org.ingest, _call())
    return int(list_sessions(client, org.read)["items"][0]["session_id"])


def test_messages_carry_the_tool_calls_their_turn_led_to(
    client: httpx.Client, org: Org, call_id: int
) -> None:
    response = client.get(f"/api/v1/session_debug/session_id/{call_id}", headers=org.headers("read"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["session_id"], body["source"], body["target"], body["is_test"]) == (call_id, "", "", False)
    turns = [
        (m["role"], m["dialog"]["text"], [t["tool_name"] for t in m["tool_calls"]]) for m in body["messages"]
    ]
    assert turns == [
        ("agent", "Hi!", []),
        ("user", "Where is A1?", ["lookup_order"]),
        ("agent", "It shipped.", []),
    ]
    call = body["messages"][1]["tool_calls"][0]
    assert call["tool_arguments"] == {"order": "A1"}
    assert call["tool_result"] == {"status": "shipped"}
    by_sid = client.get("/api/v1/session_debug/sid/hedy/call-1", headers=org.headers("read"))
    assert by_sid.json() == body


def test_tool_result_by_call_id(client: httpx.Client, org: Org, call_id: int) -> None:
    response = client.get(f"/api/v1/session_debug/tool_result/{call_id}/c1", headers=org.headers("read"))
    assert response.json() == {"tool_name": "lookup_order", "tool_result": {"status": "shipped"}}
    missing = client.get(f"/api/v1/session_debug/tool_result/{call_id}/nope", headers=org.headers("read"))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/session_debug/session_id/{id}", "/api/v1/session_debug/sid/hedy/call-1"]
)
def test_another_organizations_session_is_404(
    client: httpx.Client, other_org: Org, call_id: int, path: str
) -> None:
    response = client.get(path.format(id=call_id), headers=other_org.headers("read"))
    assert response.status_code == 404


def test_official_client_reads_the_debug_views(server: LiveServer, org: Org, call_id: int) -> None:
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        data = sdk.session_debug.get_session_data_by_session_id(session_id=call_id)
        assert [m.dialog.text for m in data.messages] == ["Hi!", "Where is A1?", "It shipped."]
        assert data.messages[1].tool_calls[0].tool_name == "lookup_order"
        same = sdk.session_debug.get_session_data_by_sid(
            channel_manager_service="hedy", channel_manager_sid="call-1"
        )
        assert same.session_id == call_id
        result = sdk.session_debug.get_session_tool_call_result_by_id(session_id=call_id, tool_call_id="c1")
        assert result.tool_result == {"status": "shipped"}
        with pytest.raises(errors.APIError) as failure:
            sdk.session_debug.get_session_data_by_session_id(session_id=999_999_999)
        assert failure.value.status_code == 404
