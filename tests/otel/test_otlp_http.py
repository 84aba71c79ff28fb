"""POST /otel/v1/traces with the OpenTelemetry SDK's own exporter and encoder against a live server, on
both databases: GenAI-convention spans become a session the official syllable-sdk reads; re-exports, any
order and any split store the same; both encodings, gzip, and every refusal the OTLP spec names."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import httpx
import orjson
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import ReadableSpan
from syllable_sdk import SyllableSDK

from tests.conftest import Org
from tests.helpers import LiveServer, list_sessions
from tests.otel.otlp import Recorder, export, json_body, post, protobuf_body, server_with

PROTOBUF, JSON = "application/x-protobuf", "application/json"


def agent_conversation(conversation_id: str = "conv-42", *, temperature: float = 0.2) -> list[ReadableSpan]:
    """One turn of an agent instrumented by the GenAI conventions: a user question, a tool call, a reply."""
    recorder = Recorder()
    tracer = recorder.tracer()
    root_attributes = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "Support",
        "gen_ai.conversation.id": conversation_id,
    }
    with tracer.start_as_current_span("invoke_agent Support", attributes=root_attributes):
        question = [{"role": "user", "parts": [{"type": "text", "content": "Where is my order A1?"}]}]
        call = {"type": "tool_call", "id": "call_1", "name": "get_order", "arguments": {"id": "A1"}}
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attributes(_chat_attributes(temperature))
            chat.set_attribute("gen_ai.input.messages", json.dumps(question))
            chat.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [call]}]))
            chat.set_attribute("gen_ai.usage.input_tokens", 52)
            chat.set_attribute("gen_ai.usage.output_tokens", 9)
        with tracer.start_as_current_span("execute_tool get_order") as tool:
            tool.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "get_order",
                    "gen_ai.tool.call.id": "call_1",
                    "gen_ai.tool.call.arguments": '{"id": "A1"}',
                    "gen_ai.tool.call.result": '{"status": "shipped"}',
                }
            )
        answer = {"type": "tool_call_response", "id": "call_1", "response": {"status": "shipped"}}
        history = [*question, {"role": "assistant", "parts": [call]}, {"role": "tool", "parts": [answer]}]
        reply = [{"role": "assistant", "parts": [{"type": "text", "content": "It shipped yesterday."}]}]
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attributes(_chat_attributes(temperature))
            chat.set_attribute("gen_ai.input.messages", json.dumps(history))
            chat.set_attribute("gen_ai.output.messages", json.dumps(reply))
    return recorder.spans()


def _chat_attributes(temperature: float) -> dict[str, str | float]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.temperature": temperature,
    }


def read_back(url: str, org: Org) -> dict[str, object]:
    """What the official client reads of the organization's one session."""
    with SyllableSDK(server_url=url, api_key_header=org.read) as sdk:
        page = sdk.sessions.list(limit=10)
        assert page.items is not None
        assert len(page.items) == 1
        session = page.items[0]
        sid = str(session.session_id)
        conversations = sdk.conversations.list(limit=10).items or []
        conversation = next(c for c in conversations if c.conversation_id == session.conversation_id)
        transcript = sdk.sessions.transcript.get_by_id(session_id=sid)
        latency = sdk.sessions.latency.get_by_id(session_id=sid)
        return {
            "key": (session.channel_manager_service, session.channel_manager_sid),
            "type": session.channel_manager_type,
            "agent": session.agent_name,
            "conversation": session.conversation_id,
            "llm": (conversation.llm_provider, conversation.llm_model, conversation.llm_temperature),
            "duration": session.duration,
            "turns": [(t.source, t.text) for t in transcript.transcription],
            "tools": [(a.tool_name, a.tool_request, a.tool_result) for a in transcript.actions],
            "latencies": sorted(
                (e.category, e.label, tuple(e.metadata or ())) for e in latency.timeline or []
            ),
        }


def test_genai_spans_from_the_sdk_exporter_become_a_session_the_official_client_reads(
    server: LiveServer, org: Org
) -> None:
    spans = agent_conversation()
    export(server.url, org.ingest, spans)
    seen = read_back(server.url, org)
    assert seen["key"] == ("support-bot", "conv-42")
    assert seen["conversation"] == "conv-42"
    assert seen["type"] == "otel"
    assert seen["agent"] == "Support"
    assert seen["llm"] == ("openai", "gpt-4o", 0.2)
    root = next(span for span in spans if span.parent is None)
    assert root.end_time is not None
    assert root.start_time is not None
    assert seen["duration"] == pytest.approx((root.end_time - root.start_time) / 1e9, abs=1e-3)
    assert seen["turns"] == [("user", "Where is my order A1?"), ("agent", "It shipped yesterday.")]
    tools = seen["tools"]
    assert isinstance(tools, list)
    assert len(tools) == 1
    assert tools[0][0] == "get_order"
    assert orjson.loads(tools[0][1]) == {"id": "A1"}
    assert orjson.loads(tools[0][2]) == {"status": "shipped"}
    llm = [entry for entry in seen["latencies"] if entry[0] == "llm"]  # type: ignore[union-attr]
    assert ("llm", "llm_request", ("model=gpt-4o", "input_tokens=52", "output_tokens=9")) in llm


def test_reexporting_the_same_spans_changes_nothing(
    server: LiveServer, org: Org, client: httpx.Client
) -> None:
    spans = agent_conversation()
    export(server.url, org.ingest, spans)
    first, listed = read_back(server.url, org), list_sessions(client, org.read)["items"]
    export(server.url, org.ingest, spans)
    export(server.url, org.ingest, list(reversed(spans)))
    assert read_back(server.url, org) == first
    assert list_sessions(client, org.read)["items"] == listed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spans_in_any_order_and_any_split_make_the_same_session(
    server: LiveServer, database: object, org: Org, seed: int
) -> None:
    from tests.conftest import make_org

    spans = agent_conversation()
    export(server.url, org.ingest, spans)
    expected = read_back(server.url, org)
    shuffled = list(spans)
    random.Random(seed).shuffle(shuffled)
    other = make_org(database)  # type: ignore[arg-type]
    cut = random.Random(seed).randint(1, len(shuffled) - 1)
    for part in (shuffled[:cut], shuffled[cut:]):
        export(server.url, other.ingest, part)
    assert read_back(server.url, other) == expected


def test_children_exported_before_their_root_wait_for_it(
    server: LiveServer, org: Org, client: httpx.Client
) -> None:
    spans = agent_conversation()
    children = [span for span in spans if span.parent is not None]
    export(server.url, org.ingest, children)
    assert list_sessions(client, org.read)["items"] == []  # no span named the session yet
    export(server.url, org.ingest, [span for span in spans if span.parent is None])
    assert read_back(server.url, org)["turns"] == [
        ("user", "Where is my order A1?"),
        ("agent", "It shipped yesterday."),
    ]


@pytest.mark.parametrize(("content_type", "gzipped"), [(PROTOBUF, True), (JSON, False), (JSON, True)])
def test_json_and_gzip_bodies_store_the_same_session(
    server: LiveServer, org: Org, client: httpx.Client, content_type: str, gzipped: bool
) -> None:
    spans = agent_conversation()
    body = protobuf_body(spans) if content_type == PROTOBUF else orjson.dumps(json_body(spans))
    response = post(client, org.ingest, body, content_type, gzipped=gzipped)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(content_type)
    seen = read_back(server.url, org)
    assert seen["key"] == ("support-bot", "conv-42")
    assert seen["turns"] == [("user", "Where is my order A1?"), ("agent", "It shipped yesterday.")]


def test_sdk_exporter_gzip_is_accepted(server: LiveServer, org: Org) -> None:
    export(server.url, org.ingest, agent_conversation(), gzip_body=True)
    assert read_back(server.url, org)["agent"] == "Support"


def test_a_span_with_an_invalid_value_is_named_in_partial_success_and_the_rest_stored(
    server: LiveServer, org: Org, client: httpx.Client
) -> None:
    spans = agent_conversation(temperature=99.0)  # the native model takes 0..10
    response = post(client, org.ingest, protobuf_body(spans), PROTOBUF)
    assert response.status_code == 200
    answer = ExportTraceServiceResponse.FromString(response.content)
    bad = [span for span in spans if span.name == "chat gpt-4o"]
    assert answer.partial_success.rejected_spans == len(bad)
    for span in bad:
        assert span.context is not None
        assert f"span {span.context.span_id:016x}" in answer.partial_success.error_message
    assert "attribute gen_ai.request.temperature" in answer.partial_success.error_message
    seen = read_back(server.url, org)
    assert seen["agent"] == "Support"
    assert seen["turns"] == []
    assert [tool[0] for tool in seen["tools"]] == ["get_order"]  # type: ignore[union-attr]


def test_partial_success_in_json_for_a_json_request(org: Org, client: httpx.Client) -> None:
    spans = agent_conversation(temperature=99.0)
    response = post(client, org.ingest, orjson.dumps(json_body(spans)), JSON)
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedSpans"] == "2"


def test_a_span_without_valid_ids_is_refused_and_the_rest_stored(org: Org, client: httpx.Client) -> None:
    document = json_body(agent_conversation())
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["spanId"] = "0000000000000000"
    response = post(client, org.ingest, orjson.dumps(document), JSON)
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "spanId" in partial["errorMessage"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "names"),
    [
        (b"\x0a\xff\xff\xff", PROTOBUF, 400, "protobuf"),
        (b"{not json", JSON, 400, "JSON"),
        (b"[]", JSON, 400, "JSON object"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', JSON, 400, "traceId"),
        (b'{"resourceSpans": 5}', JSON, 400, "ExportTraceServiceRequest"),
        (b"{}", "text/plain", 415, "Content-Type"),
    ],
)
def test_undecodable_bodies_and_other_content_types_get_a_status_naming_why(
    org: Org, client: httpx.Client, body: bytes, content_type: str, status: int, names: str
) -> None:
    response = post(client, org.ingest, body, content_type)
    assert response.status_code == status
    if content_type == PROTOBUF:
        assert names in Status.FromString(response.content).message
    else:
        assert names in response.json()["message"]


def test_a_corrupt_or_unknown_content_encoding_is_refused(org: Org, client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {org.ingest}", "Content-Type": PROTOBUF, "Content-Encoding": "gzip"}
    assert client.post("/otel/v1/traces", content=b"not gzip", headers=headers).status_code == 400
    headers["Content-Encoding"] = "br"
    response = client.post("/otel/v1/traces", content=b"x", headers=headers)
    assert response.status_code == 415
    assert "Content-Encoding" in Status.FromString(response.content).message


def test_keys_are_checked_before_the_body(org: Org, client: httpx.Client) -> None:
    body = protobuf_body(agent_conversation())
    assert post(client, "sk_wrong", body, PROTOBUF).status_code == 401
    forbidden = post(client, org.read, body, PROTOBUF)
    assert forbidden.status_code == 403
    assert "scope" in Status.FromString(forbidden.content).message.lower()
    assert client.post("/otel/v1/traces", content=body, headers={"Content-Type": PROTOBUF}).status_code == 401


def test_one_organizations_spans_never_reach_another(
    server: LiveServer, org: Org, other_org: Org, client: httpx.Client
) -> None:
    export(server.url, org.ingest, agent_conversation())
    assert list_sessions(client, other_org.read)["items"] == []


@pytest.fixture
def small_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    limits = {"otel_max_bytes": 4096, "otel_max_spans": 3, "auth_failure_limit": 2}
    with server_with(database_url, tmp_path_factory.mktemp("blobs"), **limits) as live:
        yield live


def test_bodies_and_batches_over_the_limits_get_413(small_server: LiveServer, org: Org) -> None:
    spans = agent_conversation()
    with httpx.Client(base_url=small_server.url, timeout=60) as client:
        many = post(client, org.ingest, protobuf_body(spans), PROTOBUF)
        assert many.status_code == 413
        assert "spans: 4" in Status.FromString(many.content).message
        big = post(client, org.ingest, b"\x00" * 5000, PROTOBUF)
        assert big.status_code == 413
        bomb = post(client, org.ingest, b"\x00" * 100_000, PROTOBUF, gzipped=True)
        assert bomb.status_code == 413
        assert "inflated" in Status.FromString(bomb.content).message


def test_too_many_failed_keys_get_429_with_retry_after_as_an_otlp_status(small_server: LiveServer) -> None:
    with httpx.Client(base_url=small_server.url, timeout=60) as client:
        answers = [post(client, "sk_wrong", b"", PROTOBUF) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [401, 401, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert "Too many failed" in Status.FromString(answers[-1].content).message


def test_the_exporter_configured_only_by_the_readmes_two_variables_reaches_the_server(
    server: LiveServer, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"{server.url}/otel")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer {org.ingest}")
    exporter = OTLPSpanExporter()
    try:
        assert exporter.export(agent_conversation()) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    assert read_back(server.url, org)["key"] == ("support-bot", "conv-42")
