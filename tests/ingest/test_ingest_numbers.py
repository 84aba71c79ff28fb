"""Numbers at native ingest (issue 11, items 5 and 6), on every database: durations must be finite and
within their documented range once in milliseconds, and every JSON number a client sends is either kept
exactly (integers within 64 bits, finite doubles) or refused whole with 422 naming the event and field."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import INGEST, event, ingest_ok, list_sessions

NUM = '"__NUM__"'  # replaced by the raw number text, so that 1e400 or 2**70 reach the server as written
BIG = "1" + "0" * 5000  # more digits than Python converts from text by default (4,300)


def _post_raw(client: httpx.Client, org: Org, events: list[dict[str, Any]], raw: str) -> httpx.Response:
    body = json.dumps({"events": events}).replace(NUM, raw)
    headers = {**org.headers("ingest"), "Content-Type": "application/json"}
    return client.post(INGEST, content=body, headers=headers)


def _batch(sid: str, bad: dict[str, Any]) -> list[dict[str, Any]]:
    """Two good events, then `bad` (index 2) in the same session."""
    return [
        event(f"{sid}-start", "session.started", sid=sid, data={}),
        event(f"{sid}-turn", sid=sid),
        {**bad, "channel_manager_sid": sid, "event_id": f"{sid}-bad", "timestamp": "2024-06-19T10:00:05Z"},
    ]


def _refused(client: httpx.Client, org: Org, sid: str, response: httpx.Response, loc: list[Any]) -> str:
    """Assert a 422 whose first error is at `loc`, and that nothing of the batch was stored; its message."""
    assert response.status_code == 422, response.text
    first = response.json()["detail"][0]
    assert first["loc"] == ["body", "events", 2, *loc], first
    assert (
        list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)["items"]
        == []
    )
    message: str = first["msg"]
    return message


def _sid() -> str:
    return f"num-{uuid.uuid4().hex[:10]}"


def _latency(value: Any, unit: str) -> dict[str, Any]:
    return event(
        "x", "latency", data={"category": "llm", "label": "first_token", "value": value, "unit": unit}
    )


@pytest.mark.parametrize(
    ("raw", "unit"),
    [
        ("1e308", "minutes"),  # finite as sent, infinite in milliseconds
        ('"Infinity"', "milliseconds"),
        ('"-Infinity"', "milliseconds"),
        ('"NaN"', "seconds"),
        ("1e400", "milliseconds"),
        ("166667", "minutes"),  # just past 10^10 ms
        ("10000001", "seconds"),
        ("10000000001", "milliseconds"),
        ("1.0000001e16", "nanoseconds"),
        ("-1", "microseconds"),
        (BIG, "milliseconds"),
    ],
)
def test_a_latency_outside_the_duration_range_once_in_milliseconds_is_refused_naming_value(
    client: httpx.Client, org: Org, raw: str, unit: str
) -> None:
    sid = _sid()
    response = _post_raw(client, org, _batch(sid, _latency("__NUM__", unit)), raw)
    _refused(client, org, sid, response, ["latency", "data", "value"])


@pytest.mark.parametrize(
    ("value", "unit", "ms"),
    [
        (166_666, "minutes", 9_999_960_000.0),
        (10_000_000, "seconds", 1e10),
        (1e10, "milliseconds", 1e10),
        (1e16, "nanoseconds", 1e10),
        (0, "seconds", 0.0),
    ],
)
def test_a_latency_at_the_edges_of_the_range_is_accepted_and_read_in_milliseconds(
    client: httpx.Client, org: Org, value: float, unit: str, ms: float
) -> None:
    sid = _sid()
    ingest_ok(client, org.ingest, _batch(sid, _latency(value, unit)))
    [session] = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)[
        "items"
    ]
    latency = client.get(f"/api/v1/sessions/latency/{session['session_id']}", headers=org.headers("read"))
    assert latency.status_code == 200, latency.text
    [summary, _] = latency.json()["summary"]
    assert summary["sum_ms"] == pytest.approx(ms)


@pytest.mark.parametrize("raw", ["1e308", "1e400", '"Infinity"', '"NaN"', "10000000001", "-0.5", BIG])
def test_a_tool_duration_outside_the_range_is_refused_naming_duration_ms(
    client: httpx.Client, org: Org, raw: str
) -> None:
    sid = _sid()
    bad = event("x", "tool_call", data={"tool_call_id": "t", "tool_name": "lookup", "duration_ms": "__NUM__"})
    _refused(
        client, org, sid, _post_raw(client, org, _batch(sid, bad), raw), ["tool_call", "data", "duration_ms"]
    )


@pytest.mark.parametrize("raw", ["1e400", '"Infinity"', '"NaN"', "10000001"])
def test_a_session_duration_outside_the_range_is_refused_naming_duration(
    client: httpx.Client, org: Org, raw: str
) -> None:
    sid = _sid()
    bad = event("x", "session.ended", data={"duration": "__NUM__"})
    _refused(
        client, org, sid, _post_raw(client, org, _batch(sid, bad), raw), ["session.ended", "data", "duration"]
    )


@pytest.mark.parametrize("kind", ["session.started", "session.updated"])
@pytest.mark.parametrize("field", ["prompt_version_number", "llm_seed", "llm_temperature"])
@pytest.mark.parametrize(
    "raw", [str(2**64), "1e400", "-1e400", BIG], ids=["2**64", "1e400", "-1e400", "5001-digits"]
)
def test_a_session_field_number_out_of_its_range_is_refused_naming_it(
    client: httpx.Client, org: Org, kind: str, field: str, raw: str
) -> None:
    sid = _sid()
    bad = event("x", kind, data={field: "__NUM__"})
    _refused(client, org, sid, _post_raw(client, org, _batch(sid, bad), raw), [kind, "data", field])


# Where a client's arbitrary JSON enters native ingest: (event, loc of the field, path inside it).
PLACES = [
    pytest.param(
        event("x", "custom", data={"type": "order", "attributes": {"total": {"cents": [1, "__NUM__"]}}}),
        ["custom", "data", "attributes", "total"],
        "cents[1]",
        id="custom-attributes-nested",
    ),
    pytest.param(
        event("x", "custom", data={"type": "order", "attributes": {"n": "__NUM__"}}),
        ["custom", "data", "attributes", "n"],
        None,
        id="custom-attribute",
    ),
    pytest.param(
        event(
            "x", "tool_call", data={"tool_call_id": "t", "tool_name": "x", "tool_request": {"n": "__NUM__"}}
        ),
        ["tool_call", "data", "tool_request"],
        "n",
        id="tool-request",
    ),
    pytest.param(
        event("x", "tool_call", data={"tool_call_id": "t", "tool_name": "x", "tool_result": ["__NUM__"]}),
        ["tool_call", "data", "tool_result"],
        "[0]",
        id="tool-result",
    ),
    pytest.param(
        event("x", "tool_call", data={"tool_call_id": "t", "tool_name": "x", "tool_error": "__NUM__"}),
        ["tool_call", "data", "tool_error"],
        None,
        id="tool-error",
    ),
]
INEXACT = {
    "2**63": str(2**63),
    "2**64": str(2**64),
    "2**70": str(2**70),
    "-(2**63)-1": str(-(2**63) - 1),
    "1e400": "1e400",
    "-1e400": "-1e400",
    "long-mantissa": "1" * 400 + ".5",
    "5001-digits": BIG,  # the JSON parser itself refuses it; the field is named all the same
}


@pytest.mark.parametrize("raw", list(INEXACT.values()), ids=list(INEXACT))
@pytest.mark.parametrize(("bad", "loc", "inner"), PLACES)
def test_a_json_number_that_cannot_be_kept_exactly_is_refused_naming_event_field_and_path(
    client: httpx.Client, org: Org, bad: dict[str, Any], loc: list[Any], inner: str | None, raw: str
) -> None:
    sid = _sid()
    message = _refused(client, org, sid, _post_raw(client, org, _batch(sid, bad), raw), loc)
    assert ("64-bit" in message) or ("finite" in message)
    if inner is not None:
        assert message.startswith(f"Value error, {inner}: "), message


# Numbers at the edges of what is kept: as sent, they read back equal (integers as integers).
KEPT: list[Any] = [
    2**63 - 1,
    -(2**63),
    2**53 + 1,
    0,
    -0.0,
    0.1,
    1e308,
    -1.7976931348623157e308,
    5e-324,
    1e18,
    123456.789,
]


def test_numbers_within_the_range_read_back_exactly_from_tool_payloads_and_attributes(
    client: httpx.Client, org: Org
) -> None:
    sid = _sid()
    payload = {"values": KEPT, "nested": {"max": 2**63 - 1}}
    tool = event("x", "tool_call", data={"tool_call_id": "t", "tool_name": "x", "tool_request": payload,
                                         "tool_result": KEPT})  # fmt: skip
    custom = event("y", "custom", data={"type": "order", "attributes": {"values": KEPT, "max": 2**63 - 1}})
    batch = _batch(sid, tool)
    batch.append({**custom, "channel_manager_sid": sid, "event_id": f"{sid}-custom"})
    ingest_ok(client, org.ingest, batch)
    [session] = list_sessions(client, org.read, search_fields="channel_manager_sid", search_field_values=sid)[
        "items"
    ]
    session_id = session["session_id"]
    debug = client.get(f"/api/v1/session_debug/session_id/{session_id}", headers=org.headers("read"))
    assert debug.status_code == 200, debug.text
    [call] = [c for m in json.loads(debug.text)["messages"] for c in m["tool_calls"]]
    _same(call["tool_arguments"], payload)
    _same(call["tool_result"], KEPT)
    timeline = client.get(f"/api/v1/sessions/timeline/{session_id}", headers=org.headers("read"))
    [tool_event] = [e for e in timeline.json()["events"] if e["kind"] == "tool"]
    _same(json.loads(tool_event["tool_request"]), payload)
    events = client.get("/api/v1/events/", params={"session_id": session_id}, headers=org.headers("read"))
    [notable] = [e for e in json.loads(events.text)["items"] if e["type"] == "order"]
    _same(notable["attributes"], {"values": KEPT, "max": 2**63 - 1})


def _same(read: Any, sent: Any) -> None:
    """Equal, and every integer sent reads back as an integer (not as a float that rounds it)."""
    assert read == sent
    if isinstance(sent, dict):
        for key, value in sent.items():
            _same(read[key], value)
    elif isinstance(sent, list):
        for got, value in zip(read, sent, strict=True):
            _same(got, value)
    elif isinstance(sent, int) and not isinstance(sent, bool):
        assert isinstance(read, int), (read, sent)
