"""Producer ids in paths (GET /api/v1/session_debug/sid/{service}/{sid} and /tool_result/{id}/{tool_call_id}):
every id ingest accepts is read back, whether the client percent-encodes it (`/` as %2F, as the TypeScript
SDK does) or sends it as given (syllable-sdk's Python client); ids no HTTP client can send in a path (`.`,
`..` segments, control characters) are refused at ingest with 422 naming the field."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from syllable_sdk import SyllableSDK

from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions, post_events

SID = "/api/v1/session_debug/sid"
TOOL = "/api/v1/session_debug/tool_result"

# (service, sid, tool_call_id): each id holds one awkward character or sequence.
AWKWARD = [
    ("genesys/cloud", "calls/2024/06/19", "call/1"),
    ("svc", "a//b/", "/lead"),
    ("50%", "%2F", "%41"),
    ("with space", " padded ", "a b"),
    ("dünya", "呼叫-1", "✓"),
    ("q?x=1", "a?b", "?"),
    ("h#x", "a#b", "#"),
    ("back\\slash", "semi;colon", "plus+tilde~"),
    ("..x", "...", "a.b/.c"),
]
# What a client cannot send unencoded in a path: '?' starts the query, '#' the fragment, and '%' escapes.
NEEDS_ENCODING = ("?", "#", "%")


def _ingest(client: httpx.Client, org: Org, service: str, sid: str, tool_call_id: str) -> int:
    tool = {"tool_call_id": tool_call_id, "tool_name": "lookup", "tool_result": {"ok": tool_call_id}}
    ingest_ok(
        client,
        org.ingest,
        [
            event(f"{service}|{sid}|s", "session.started", service=service, sid=sid),
            event(f"{service}|{sid}|t", "tool_call", service=service, sid=sid, data=tool),
        ],
    )
    found = list_sessions(
        client, org.read, search_fields="channel_manager_sid", search_field_values=sid, limit=100
    )
    return next(int(s["session_id"]) for s in found["items"] if s["channel_manager_service"] == service)


def _enc(value: str) -> str:
    return quote(value, safe="")


@pytest.mark.parametrize(("service", "sid", "tool_call_id"), AWKWARD)
def test_every_accepted_producer_id_is_read_back_by_path_when_percent_encoded(
    client: httpx.Client, org: Org, service: str, sid: str, tool_call_id: str
) -> None:
    session_id = _ingest(client, org, service, sid, tool_call_id)
    by_sid = client.get(f"{SID}/{_enc(service)}/{_enc(sid)}", headers=org.headers("read"))
    assert by_sid.status_code == 200, by_sid.text
    assert by_sid.json()["session_id"] == session_id
    tool = client.get(f"{TOOL}/{session_id}/{_enc(tool_call_id)}", headers=org.headers("read"))
    assert tool.status_code == 200, tool.text
    assert tool.json()["tool_result"] == {"ok": tool_call_id}


@pytest.mark.parametrize(("service", "sid", "tool_call_id"), AWKWARD)
def test_the_official_python_client_reads_every_accepted_producer_id(
    server: LiveServer, client: httpx.Client, org: Org, service: str, sid: str, tool_call_id: str
) -> None:
    """syllable-sdk puts path parameters in the URL as given: ids are passed as they are, except those
    holding '?', '#' or '%' (which no server can tell from the query, fragment or an escape): encoded."""
    session_id = _ingest(client, org, service, sid, tool_call_id)

    def given(value: str) -> str:
        return _enc(value) if any(c in value for c in NEEDS_ENCODING) else value

    with SyllableSDK(server_url=server.url, api_key_header=org.read) as sdk:
        data = sdk.session_debug.get_session_data_by_sid(
            channel_manager_service=given(service), channel_manager_sid=given(sid)
        )
        assert data.session_id == session_id
        result = sdk.session_debug.get_session_tool_call_result_by_id(
            session_id=session_id, tool_call_id=given(tool_call_id)
        )
        assert result.tool_result == {"ok": tool_call_id}
        encoded = sdk.session_debug.get_session_data_by_sid(
            channel_manager_service=_enc(service), channel_manager_sid=_enc(sid)
        )
        assert encoded.session_id == session_id


def test_an_unencoded_slash_that_two_sessions_could_mean_is_409_and_encoding_tells_them_apart(
    client: httpx.Client, org: Org
) -> None:
    first = _ingest(client, org, "a/b", "c", "t")
    second = _ingest(client, org, "a", "b/c", "t")
    ambiguous = client.get(f"{SID}/a/b/c", headers=org.headers("read"))
    assert ambiguous.status_code == 409, ambiguous.text
    assert "%2F" in ambiguous.json()["detail"]
    assert client.get(f"{SID}/a%2Fb/c", headers=org.headers("read")).json()["session_id"] == first
    assert client.get(f"{SID}/a/b%2Fc", headers=org.headers("read")).json()["session_id"] == second
    assert client.get(f"{SID}/a/b/c/d", headers=org.headers("read")).status_code == 404


def test_a_session_id_segment_holding_an_encoded_slash_is_not_that_session(
    client: httpx.Client, org: Org
) -> None:
    session_id = _ingest(client, org, "svc", "s", "t")
    ok = client.get(f"{TOOL}/{session_id}/t", headers=org.headers("read"))
    assert ok.status_code == 200, ok.text
    sneaky = client.get(f"{TOOL}/{session_id}%2Fx/t", headers=org.headers("read"))  # session "N/x"
    assert sneaky.status_code == 404


def test_another_organizations_session_is_404_by_any_split(
    client: httpx.Client, org: Org, other_org: Org
) -> None:
    _ingest(client, org, "genesys/cloud", "x/y", "t")
    for path in ("genesys/cloud/x/y", "genesys%2Fcloud/x%2Fy"):
        assert client.get(f"{SID}/{path}", headers=other_org.headers("read")).status_code == 404


@pytest.mark.parametrize("bad", [".", "..", "a/../b", "./a", "a/.", "tab\there", "nl\n"])
@pytest.mark.parametrize(
    ("field", "where"),
    [
        ("channel_manager_service", ["channel_manager_service"]),
        ("channel_manager_sid", ["channel_manager_sid"]),
        ("tool_call_id", ["data", "tool_call_id"]),
    ],
)
def test_an_id_no_client_can_send_in_a_path_is_refused_at_ingest_naming_the_field(
    client: httpx.Client, org: Org, bad: str, field: str, where: list[str]
) -> None:
    ids: dict[str, Any] = {"service": "svc", "sid": "ok"}
    data = {"tool_call_id": "t1", "tool_name": "lookup"}
    if field == "tool_call_id":
        data["tool_call_id"] = bad
    else:
        ids["service" if field == "channel_manager_service" else "sid"] = bad
    response = post_events(client, org.ingest, [event("e1", "tool_call", data=data, **ids)])
    assert response.status_code == 422, response.text
    locs = [err["loc"] for err in response.json()["detail"]]
    assert any(loc[-len(where) :] == where for loc in locs), locs
    assert list_sessions(client, org.read)["total_count"] == 0
