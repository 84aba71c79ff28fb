"""Every free-text field of the native ingest is bounded: past it the batch is refused, 422 naming it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionary.eventlog.schemas import METADATA_MAX_ITEMS, PAYLOAD_MAX_BYTES, TURN_MAX_CHARS
from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions, post_events

OVER_PAYLOAD = {"text": "x" * PAYLOAD_MAX_BYTES}  # its JSON is a few bytes longer than the limit
TOOL = {"tool_call_id": "t1", "tool_name": "lookup"}
LATENCY = {"category": "llm", "label": "first_token", "value": 120, "unit": "milliseconds"}

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("turn text", event("e", data={"source": "user", "text": "a" * (TURN_MAX_CHARS + 1)}), ["data", "text"]),
    (
        "tool_request",
        event("e", "tool_call", data={**TOOL, "tool_request": OVER_PAYLOAD}),
        ["data", "tool_request"],
    ),
    (
        "tool_result",
        event("e", "tool_call", data={**TOOL, "tool_result": OVER_PAYLOAD}),
        ["data", "tool_result"],
    ),
    (
        "tool_error",
        event("e", "tool_call", data={**TOOL, "tool_error": "e" * PAYLOAD_MAX_BYTES}),
        ["data", "tool_error"],
    ),
    (
        "latency metadata items",
        event("e", "latency", data={**LATENCY, "metadata": ["m"] * (METADATA_MAX_ITEMS + 1)}),
        ["data", "metadata"],
    ),
    (
        "latency metadata text",
        event("e", "latency", data={**LATENCY, "metadata": ["m" * 201]}),
        ["data", "metadata", 0],
    ),
    (
        "custom attributes",
        event("e", "custom", data={"type": "note", "attributes": OVER_PAYLOAD}),
        ["data", "attributes"],
    ),
]


@pytest.mark.parametrize(("case", "bad", "path"), CASES, ids=[c[0] for c in CASES])
def test_a_text_past_its_limit_is_refused_naming_the_field(
    client: httpx.Client, org: Org, case: str, bad: dict[str, Any], path: list[str | int]
) -> None:
    response = post_events(client, org.ingest, [bad])
    assert response.status_code == 422, case
    locs = [err["loc"] for err in response.json()["detail"]]
    assert any(loc[:3] == ["body", "events", 0] and loc[-len(path) :] == path for loc in locs), locs
    assert list_sessions(client, org.read)["total_count"] == 0


def test_texts_at_their_limits_are_stored(client: httpx.Client, org: Org) -> None:
    at_limit = {"text": "x" * (PAYLOAD_MAX_BYTES - len('{"text":""}'))}
    events = [
        event("turn", data={"source": "user", "text": "a" * TURN_MAX_CHARS}),
        event("tool", "tool_call", data={**TOOL, "tool_request": at_limit, "tool_result": at_limit}),
        event("latency", "latency", data={**LATENCY, "metadata": ["m" * 200] * METADATA_MAX_ITEMS}),
        event("custom", "custom", data={"type": "note", "attributes": at_limit}),
    ]
    assert ingest_ok(client, org.ingest, events) == {"inserted": 4, "duplicates": 0}
