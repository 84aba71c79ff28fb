"""LiveKit Agents' own tracing, run offline, emits what the /otel/v1/traces mapping relies on.

The live runs use livekit-agents as installed (1.8.9: ``lk.pii.*`` content attributes); the committed
1.6.10 capture (made by ``runtimes/capture_livekit.py``) pins the names from before LiveKit's rename.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.otel.runtimes.capture_livekit import CAPTURES, read_otlp_json
from tests.otel.runtimes.livekit_bot import DEFAULT_TURNS, LiveKitConversation, ToolCall, run_livekit_session

ROOM = "room-under-test"


@dataclass(frozen=True)
class Run:
    conversation: LiveKitConversation
    spans: Sequence[ReadableSpan]

    def named(self, name: str) -> list[ReadableSpan]:
        return sorted((s for s in self.spans if s.name == name), key=lambda s: s.start_time or 0)

    def parent_of(self, span: ReadableSpan) -> ReadableSpan | None:
        parent_id = span.parent.span_id if span.parent else None
        return next((s for s in self.spans if s.context.span_id == parent_id), None)

    def ancestor_names(self, span: ReadableSpan) -> list[str]:
        names = []
        while (parent := self.parent_of(span)) is not None:
            names.append(parent.name)
            span = parent
        return names

    def children(self, parent: ReadableSpan, name: str) -> list[ReadableSpan]:
        return [s for s in self.named(name) if s.parent and s.parent.span_id == parent.context.span_id]


@pytest.fixture(scope="module")
def run() -> Run:
    exporter = InMemorySpanExporter()
    conversation = run_livekit_session(exporter, room_name=ROOM, metadata={"langfuse.session.id": ROOM})
    return Run(conversation, exporter.get_finished_spans())


def attr(span: ReadableSpan, key: str) -> object:
    assert span.attributes is not None
    return span.attributes.get(key)


def test_the_scripted_conversation_happened(run: Run) -> None:
    assert run.conversation.user_texts == [t.user for t in DEFAULT_TURNS]
    assert run.conversation.agent_texts == [t.reply for t in DEFAULT_TURNS]
    assert run.conversation.tool_calls == [
        ToolCall("call_weather_1", "get_weather", '{"city": "Paris"}', "sunny, 21 degrees")
    ]


def test_agent_session_is_the_only_root_and_every_span_shares_its_trace(run: Run) -> None:
    roots = [s for s in run.spans if s.parent is None]
    assert [s.name for s in roots] == ["agent_session"]
    assert {s.context.trace_id for s in run.spans} == {roots[0].context.trace_id}


def test_user_and_agent_turns_are_children_of_agent_session(run: Run) -> None:
    session = run.named("agent_session")[0]
    assert len(run.children(session, "user_turn")) == len(DEFAULT_TURNS)
    assert len(run.children(session, "agent_turn")) == len(DEFAULT_TURNS)


def test_user_turns_carry_the_transcripts_and_their_latencies(run: Run) -> None:
    turns = run.named("user_turn")
    assert [attr(t, "lk.pii.user_transcript") for t in turns] == run.conversation.user_texts
    for turn in turns:
        assert isinstance(attr(turn, "lk.end_of_turn_delay"), float | int)
        assert isinstance(attr(turn, "lk.transcription_delay"), float | int)


def test_agent_turns_carry_the_user_input_and_the_response_text(run: Run) -> None:
    turns = run.named("agent_turn")
    assert [attr(t, "lk.pii.user_input") for t in turns] == run.conversation.user_texts
    assert [attr(t, "lk.pii.response.text") for t in turns] == run.conversation.agent_texts


def test_llm_nodes_sit_under_agent_turns_with_response_text_and_positive_ttft(run: Run) -> None:
    final_texts = []
    for turn in run.named("agent_turn"):
        nodes = run.children(turn, "llm_node")
        assert nodes
        assert all(float(str(attr(n, "lk.response.ttft"))) > 0 for n in nodes)
        final_texts.append(attr(nodes[-1], "lk.pii.response.text"))
    assert final_texts == run.conversation.agent_texts


def test_function_tool_span_carries_id_name_arguments_and_output_under_its_agent_turn(run: Run) -> None:
    [tool] = run.named("function_tool")
    assert run.ancestor_names(tool)[0] == "agent_turn"
    call = run.conversation.tool_calls[0]
    assert attr(tool, "lk.function_tool.id") == call.call_id
    assert attr(tool, "lk.function_tool.name") == call.name
    assert json.loads(str(attr(tool, "lk.pii.function_tool.arguments"))) == {"city": "Paris"}
    assert attr(tool, "lk.pii.function_tool.output") == call.output
    assert attr(tool, "lk.function_tool.is_error") is False


def test_tts_nodes_carry_positive_ttfb_and_their_requests_the_spoken_text(run: Run) -> None:
    nodes = run.named("tts_node")
    assert len(nodes) == len(DEFAULT_TURNS)
    assert all(float(str(attr(n, "lk.response.ttfb"))) > 0 for n in nodes)
    requests = run.named("tts_request")
    assert all("tts_node" in run.ancestor_names(r) for r in requests)
    assert [attr(r, "lk.pii.input_text") for r in requests] == run.conversation.agent_texts


def test_provider_metadata_and_job_ids_are_on_every_span(run: Run) -> None:
    session = run.named("agent_session")[0]
    room_sid = attr(session, "lk.room_sid")
    assert room_sid
    for span in run.spans:
        assert attr(span, "langfuse.session.id") == ROOM, span.name
        assert attr(span, "job_id") == run.conversation.job_id, span.name
        assert attr(span, "room_id") == room_sid, span.name


def test_agent_session_names_the_room_and_the_job(run: Run) -> None:
    session = run.named("agent_session")[0]
    assert attr(session, "lk.pii.room_name") == ROOM
    assert attr(session, "lk.job_id") == run.conversation.job_id


def test_runs_in_one_process_each_export_only_their_own_spans(run: Run) -> None:
    exporter = InMemorySpanExporter()
    run_livekit_session(exporter, room_name="second-room", metadata={"langfuse.session.id": "second-room"})
    second = exporter.get_finished_spans()
    assert second
    assert {attr(s, "langfuse.session.id") for s in second} == {"second-room"}
    assert not {s.context.trace_id for s in second} & {s.context.trace_id for s in run.spans}


def capture_spans(version: str) -> dict[str, list[ProtoSpan]]:
    request = read_otlp_json(CAPTURES / f"livekit-{version}.json")
    spans: dict[str, list[ProtoSpan]] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.setdefault(span.name, []).append(span)
    return spans


def proto_attrs(span: ProtoSpan) -> dict[str, str]:
    return {a.key: a.value.string_value for a in span.attributes}


@pytest.mark.parametrize(
    ("span_name", "old_key", "new_key"),
    [
        ("user_turn", "lk.user_transcript", "lk.pii.user_transcript"),
        ("agent_turn", "lk.user_input", "lk.pii.user_input"),
        ("agent_turn", "lk.response.text", "lk.pii.response.text"),
        ("llm_node", "lk.response.text", "lk.pii.response.text"),
        ("function_tool", "lk.function_tool.arguments", "lk.pii.function_tool.arguments"),
        ("function_tool", "lk.function_tool.output", "lk.pii.function_tool.output"),
        ("tts_request", "lk.input_text", "lk.pii.input_text"),
        ("agent_session", "lk.room_name", "lk.pii.room_name"),
    ],
)
def test_the_1_6_10_capture_carries_the_names_from_before_the_rename(span_name, old_key, new_key) -> None:
    old = [proto_attrs(s) for s in capture_spans("1.6.10")[span_name]]
    new = [proto_attrs(s) for s in capture_spans("1.8.9")[span_name]]
    assert any(old_key in a for a in old)
    assert not any(new_key in a for a in old)
    assert any(new_key in a for a in new)
    assert not any(old_key in a for a in new)


def test_the_1_6_10_capture_holds_the_same_conversation() -> None:
    spans = capture_spans("1.6.10")
    transcripts = [proto_attrs(s)["lk.user_transcript"] for s in spans["user_turn"]]
    assert transcripts == [t.user for t in DEFAULT_TURNS]
    replies = [
        a["lk.response.text"] for a in map(proto_attrs, spans["agent_turn"]) if "lk.response.text" in a
    ]
    assert replies == [t.reply for t in DEFAULT_TURNS]
    [tool] = spans["function_tool"]
    assert proto_attrs(tool)["lk.function_tool.name"] == "get_weather"


def test_1_6_10_splits_a_tool_calling_reply_into_two_agent_turns_of_one_speech() -> None:
    turns = [proto_attrs(s) for s in capture_spans("1.6.10")["agent_turn"]]
    assert len(turns) == len(DEFAULT_TURNS) + 1
    [step] = [a for a in turns if "lk.parent_generation_id" in a]
    [first] = [a for a in turns if a["lk.generation_id"] == step["lk.parent_generation_id"]]
    assert first["lk.speech_id"] == step["lk.speech_id"]
    assert "lk.response.text" not in first
    assert "lk.user_input" not in step


def test_1_8_9_keeps_a_tool_calling_reply_in_one_agent_turn(run: Run) -> None:
    counts = [attr(t, "lk.generation_count") for t in run.named("agent_turn")]
    assert counts == [2 if t.weather_city else 1 for t in DEFAULT_TURNS]
