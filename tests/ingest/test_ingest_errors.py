"""Every invalid batch is refused whole with a 4xx naming the event index and field; limits answer 413."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.helpers import INGEST, event, ingest_ok, list_sessions, post_events


def _with(changes: dict[str, Any], drop: str | None = None, type_: str = "transcript") -> dict[str, Any]:
    bad = event("bad", type_)
    bad.update(changes)
    if drop:
        bad.pop(drop)
    return bad


CASES = [
    ("missing event_id", _with({}, drop="event_id"), ["event_id"]),
    ("empty event_id", _with({"event_id": ""}), ["event_id"]),
    ("unknown type", _with({"type": "session.exploded"}), ["type"]),
    ("missing timestamp", _with({}, drop="timestamp"), ["timestamp"]),
    ("bad timestamp", _with({"timestamp": "half past ten"}), ["timestamp"]),
    ("missing service", _with({}, drop="channel_manager_service"), ["channel_manager_service"]),
    ("missing sid", _with({}, drop="channel_manager_sid"), ["channel_manager_sid"]),
    # journey (web/app) sessions are stored under this service: a native one must not pose as one
    ("reserved service", _with({"channel_manager_service": "journey"}), ["channel_manager_service"]),
    ("unknown envelope key", _with({"colour": "red"}), ["colour"]),
    ("transcript source", _with({"data": {"source": "robot", "text": "hi"}}), ["data", "source"]),
    ("transcript text", _with({"data": {"source": "user"}}), ["data", "text"]),
    ("data not an object", _with({"data": [1, 2]}), ["data"]),
    (
        "unknown session field",
        _with({"data": {"agent_colour": "red"}}, type_="session.updated"),
        ["data", "agent_colour"],
    ),
    (
        "bool field",
        _with({"data": {"is_outbound": "sideways"}}, type_="session.started"),
        ["data", "is_outbound"],
    ),
    (
        "prompt_version_number",
        _with({"data": {"prompt_version_number": "v2"}}, type_="session.started"),
        ["data", "prompt_version_number"],
    ),
    ("tool_name", _with({"data": {"tool_call_id": "t"}}, type_="tool_call"), ["data", "tool_name"]),
    (
        "tool duration",
        _with({"data": {"tool_call_id": "t", "tool_name": "x", "duration_ms": -5}}, type_="tool_call"),
        ["data", "duration_ms"],
    ),
    (
        "latency category",
        _with(
            {"data": {"category": "gpu", "label": "x", "value": 1, "unit": "milliseconds"}}, type_="latency"
        ),
        ["data", "category"],
    ),
    (
        "latency unit",
        _with({"data": {"category": "llm", "label": "x", "value": 1, "unit": "fortnights"}}, type_="latency"),
        ["data", "unit"],
    ),
    (
        "latency measurement_start",
        _with(
            {
                "data": {
                    "category": "llm",
                    "label": "x",
                    "value": 1,
                    "unit": "seconds",
                    "measurement_start": "?",
                }
            },
            type_="latency",
        ),
        ["data", "measurement_start"],
    ),
    (
        "ended duration",
        _with({"data": {"duration": -1}}, type_="session.ended"),
        ["data", "duration"],
    ),
]


@pytest.mark.parametrize(("case", "bad", "path"), CASES, ids=[c[0] for c in CASES])
def test_invalid_event_rejects_whole_batch_naming_index_and_field(
    client: httpx.Client, org: Org, case: str, bad: dict[str, Any], path: list[str]
) -> None:
    good = event("good-1", "session.started", sid="other")
    response = post_events(client, org.ingest, [good, bad])
    assert response.status_code == 422, case
    locs = [err["loc"] for err in response.json()["detail"]]
    assert any(loc[:3] == ["body", "events", 1] and loc[-len(path) :] == path for loc in locs), locs
    assert list_sessions(client, org.read)["total_count"] == 0  # nothing of the batch was stored
    assert ingest_ok(client, org.ingest, [good]) == {"inserted": 1, "duplicates": 0}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'{"events": {}}', "application/json"),
        (b'{"events": [], "extra": 1}', "application/json"),
        (b"", "application/json"),
    ],
)
def test_malformed_bodies_get_422(client: httpx.Client, org: Org, body: bytes, content_type: str) -> None:
    response = client.post(
        INGEST, content=body, headers={"Syllable-API-Key": org.ingest, "Content-Type": content_type}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_empty_batch_is_accepted(client: httpx.Client, org: Org) -> None:
    assert ingest_ok(client, org.ingest, []) == {"inserted": 0, "duplicates": 0}


def test_naive_timestamp_is_read_as_utc(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, [event("n1", "session.started", timestamp="2024-06-19T10:00:00")])
    assert list_sessions(client, org.read)["items"][0]["timestamp"] == "2024-06-19T10:00:00Z"


def test_offset_timestamp_is_converted_to_utc(client: httpx.Client, org: Org) -> None:
    ingest_ok(client, org.ingest, [event("o1", "session.started", timestamp="2024-06-19T12:00:00+02:00")])
    assert list_sessions(client, org.read)["items"][0]["timestamp"] == "2024-06-19T10:00:00Z"


def test_repeated_event_id_inside_one_batch_counts_as_duplicate(client: httpx.Client, org: Org) -> None:
    events = [event("same"), event("same"), event("other")]
    assert ingest_ok(client, org.ingest, events) == {"inserted": 2, "duplicates": 1}


def test_more_than_the_event_limit_is_413(client: httpx.Client, org: Org) -> None:
    events = [event(f"e{i}", sid=f"s{i % 50}") for i in range(10_001)]
    response = post_events(client, org.ingest, events)
    assert response.status_code == 413
    assert "10000" in response.json()["detail"]
    assert list_sessions(client, org.read)["total_count"] == 0


def test_exactly_the_event_limit_is_accepted(client: httpx.Client, org: Org) -> None:
    events = [event(f"e{i}", sid=f"s{i % 50}") for i in range(10_000)]
    assert ingest_ok(client, org.ingest, events)["inserted"] == 10_000


def test_body_over_10_mb_is_413_before_parsing(client: httpx.Client, org: Org) -> None:
    text = "x" * 1_000_000
    events = [event(f"big{i}", data={"source": "user", "text": text}) for i in range(11)]
    response = post_events(client, org.ingest, events)
    assert response.status_code == 413
    assert "bytes" in response.json()["detail"]
    assert list_sessions(client, org.read)["total_count"] == 0


def test_chunked_body_over_the_limit_is_413(client: httpx.Client, org: Org) -> None:
    def chunks():
        yield b'{"events": [{"event_id": "x", "data": {"text": "'
        for _ in range(11):
            yield b"y" * 1_000_000
        yield b'"}}]}'

    response = client.post(
        INGEST, content=chunks(), headers={"Syllable-API-Key": org.ingest, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
