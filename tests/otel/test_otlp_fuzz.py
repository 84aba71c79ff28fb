"""Property-based fuzzing of POST /otel/v1/traces on a live server, both databases: arbitrary bodies, and
well-formed export requests whose spans carry every attribute the mappings read with values of any OTLP
type (NUL characters, huge numbers, NaN, nested lists, JSON-looking text). The answer is always an OTLP
answer (200, or 400/413/415 for a body that cannot be read), never a 5xx, and later reads still work."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.conftest import Org
from tests.helpers import list_sessions

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
ATTRIBUTES = [
    "session.id",
    "langfuse.session.id",
    "gen_ai.conversation.id",
    "conversation.id",
    "room_id",
    "lk.room_sid",
    "job_id",
    "lk.job_id",
    "service.operation",
    "conversation.type",
    "turn.number",
    "turn.was_interrupted",
    "turn.ended_by_conversation_end",
    "turn.user_bot_latency_seconds",
    "transcript",
    "transcript.is_input",
    "text",
    "output",
    "input",
    "metrics.ttfb",
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.request.temperature",
    "gen_ai.request.seed",
    "gen_ai.usage.input_tokens",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.name",
    "gen_ai.tool.call.id",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.agent.name",
    "gen_ai.response.time_to_first_chunk",
    "lk.pii.user_transcript",
    "lk.user_transcript",
    "lk.pii.response.text",
    "lk.response.text",
    "lk.function_tool.id",
    "lk.function_tool.name",
    "lk.pii.function_tool.arguments",
    "lk.function_tool.output",
    "lk.function_tool.is_error",
    "lk.interrupted",
    "lk.response.ttft",
    "lk.response.ttfb",
    "lk.end_of_turn_delay",
    "lk.e2e_latency",
    "lk.agent_name",
    "sessionary.channel_manager_type",
    "sessionary.is_test",
    "sessionary.source",
]
NAMES = [
    "conversation",
    "turn",
    "stt",
    "llm",
    "tts",
    "llm_response",
    "agent_session",
    "user_turn",
    "llm_node",
    "function_tool",
    "agent_turn",
    "job_entrypoint",
    "chat x",
    "execute_tool y",
    "other",
]
SCOPES = ["pipecat", "pipecat.turn", "livekit-agents", "my-agent", ""]
MESSAGES = [
    '[{"role": "user", "content": "hi"}]',
    '[{"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]},'
    ' {"role": "tool", "tool_call_id": "c1", "content": "ok"}]',
    '[{"role": "assistant", "tool_calls": 5}, {"role": "tool", "tool_call_id": {"x": 1}}]',
    '[{"role": "user", "parts": [{"type": "tool_call_response", "id": "c\\u0000", "response": 1}]}]',
    '[{"role": "assistant", "content": [{"type": "tool_use", "id": 7, "name": null, "input": [1]}]},'
    ' {"role": "user", "content": [{"type": "tool_result", "tool_use_id": 7, "content": "\\u0000"}]}]',
]
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(MESSAGES),
    st.just("a\x00b"),
    st.text(min_size=20_001, max_size=20_002),
)
scalars = st.one_of(
    texts.map(lambda v: AnyValue(string_value=v)),
    st.booleans().map(lambda v: AnyValue(bool_value=v)),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: AnyValue(int_value=v)),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: AnyValue(double_value=v)),
    st.binary(max_size=8).map(lambda v: AnyValue(bytes_value=v)),
)


def _array(items: list[AnyValue]) -> AnyValue:
    value = AnyValue()
    value.array_value.values.extend(items)
    return value


def _kvlist(items: list[AnyValue]) -> AnyValue:
    value = AnyValue()
    value.kvlist_value.values.extend(KeyValue(key=f"k{n}", value=item) for n, item in enumerate(items))
    return value


values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3).flatmap(
        lambda items: st.sampled_from([_array(items), _kvlist(items)])
    ),
    max_leaves=6,
)
ids = st.one_of(
    st.binary(min_size=16, max_size=16), st.sampled_from([b"\x01" * 16, b"\x00" * 16, b"\x02" * 15])
)
span_ids = st.one_of(st.binary(min_size=8, max_size=8), st.sampled_from([b"", b"\x03" * 8, b"\x00" * 8]))
spans = st.fixed_dictionaries(
    {
        "trace_id": ids,
        "span_id": span_ids,
        "parent_span_id": span_ids,
        "name": st.sampled_from(NAMES),
        "start": st.integers(0, 2**64 - 1),
        "length": st.integers(0, 10**12),
        "attributes": st.dictionaries(st.sampled_from(ATTRIBUTES), values, max_size=8),
        "status": st.integers(0, 2),
    }
)
requests = st.fixed_dictionaries(
    {
        "service": st.one_of(st.sampled_from(["bot", "journey", "a/../b", "x\x00"]), st.text(max_size=5)),
        "scope": st.sampled_from(SCOPES),
        "spans": st.lists(spans, min_size=1, max_size=6),
    }
)


def build(drawn: dict[str, Any]) -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.add(key="service.name", value=AnyValue(string_value=drawn["service"]))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = drawn["scope"]
    for item in drawn["spans"]:
        span = scope_spans.spans.add()
        span.trace_id, span.span_id, span.parent_span_id = (
            item["trace_id"],
            item["span_id"],
            item["parent_span_id"],
        )
        span.name = item["name"]
        span.start_time_unix_nano = item["start"]
        span.end_time_unix_nano = min(2**64 - 1, item["start"] + item["length"])
        span.status.code = item["status"]
        for key, value in item["attributes"].items():
            span.attributes.add(key=key, value=value)
    return request.SerializeToString()


def _post(
    client: httpx.Client, org: Org, body: bytes, content_type: str, gzipped: bool = False
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {org.ingest}", "Content-Type": content_type}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    return client.post("/otel/v1/traces", content=body, headers=headers)


@FUZZ
@given(drawn=requests)
def test_any_well_formed_export_is_answered_200_and_later_reads_work(
    client: httpx.Client, org: Org, drawn: dict[str, Any]
) -> None:
    response = _post(client, org, build(drawn), "application/x-protobuf")
    assert response.status_code == 200, response.content
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans <= len(drawn["spans"])
    assert list_sessions(client, org.read)["items"] is not None


@FUZZ
@given(body=st.binary(max_size=300), json=st.booleans(), gzipped=st.booleans())
def test_any_body_is_answered_with_an_otlp_status_never_a_5xx(
    client: httpx.Client, org: Org, body: bytes, json: bool, gzipped: bool
) -> None:
    content_type = "application/json" if json else "application/x-protobuf"
    response = _post(client, org, body, content_type, gzipped)
    assert response.status_code in (200, 400, 413), response.content


@pytest.mark.parametrize("content_type", ["application/x-protobuf", "application/json"])
def test_an_empty_export_is_answered_200(client: httpx.Client, org: Org, content_type: str) -> None:
    body = b"" if content_type.endswith("protobuf") else b"{}"
    assert _post(client, org, body, content_type).status_code == 200
