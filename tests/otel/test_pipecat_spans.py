"""The Pipecat harness: a real Pipecat bot's own tracing code emits the spans the OTLP intake relies on."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.otel.runtimes.fake_openai import MODEL
from tests.otel.runtimes.pipecat_bot import run_pipecat_conversation
from tests.otel.runtimes.script import (
    DEFAULT_TURNS,
    WEATHER_TOOL,
    ConversationRun,
    ToolCallRecord,
    weather_for,
)

CONVERSATION_ID = "pipecat-conv-1"


@dataclass
class Traced:
    run: ConversationRun
    spans: Sequence[ReadableSpan]

    def named(self, name: str) -> list[ReadableSpan]:
        return sorted((s for s in self.spans if s.name == name), key=lambda s: s.start_time or 0)

    def parent(self, span: ReadableSpan) -> ReadableSpan | None:
        parent_id = span.parent.span_id if span.parent else None
        return next((s for s in self.spans if s.context.span_id == parent_id), None)

    def turn_number(self, span: ReadableSpan) -> object:
        parent = self.parent(span)
        return parent.attributes.get("turn.number") if parent and parent.attributes else None


def attrs(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


@pytest.fixture(scope="module")
def traced() -> Traced:
    exporter = InMemorySpanExporter()
    run = run_pipecat_conversation(exporter, conversation_id=CONVERSATION_ID, extra={"tenant": "acme"})
    return Traced(run, exporter.get_finished_spans())


def test_spans_are_pipecats_conversation_turn_stt_llm_tts_in_one_trace(traced: Traced) -> None:
    assert {s.name for s in traced.spans} == {"conversation", "turn", "stt", "llm", "tts"}
    assert {trace.format_trace_id(s.context.trace_id) for s in traced.spans} == {traced.run.trace_id}
    assert {s.instrumentation_scope.name for s in traced.spans if s.instrumentation_scope} == {
        "pipecat",
        "pipecat.turn",
    }


def test_conversation_is_the_root_and_each_turn_its_child(traced: Traced) -> None:
    (conversation,) = traced.named("conversation")
    assert conversation.parent is None
    turns = traced.named("turn")
    assert [attrs(t)["turn.number"] for t in turns] == [1, 2, 3]
    assert all(traced.parent(t) is conversation for t in turns)


def test_stt_llm_and_tts_spans_are_children_of_turns(traced: Traced) -> None:
    for name in ("stt", "llm", "tts"):
        spans = traced.named(name)
        assert spans
        assert all(traced.parent(s) in traced.named("turn") for s in spans), name
    assert [traced.turn_number(s) for s in traced.named("stt")] == [1, 2, 3]
    assert [traced.turn_number(s) for s in traced.named("llm")] == [1, 2, 2, 3]
    assert [traced.turn_number(s) for s in traced.named("tts")] == [1, 2, 3]


def test_conversation_and_turn_spans_carry_the_conversation_id(traced: Traced) -> None:
    (conversation,) = traced.named("conversation")
    assert attrs(conversation)["conversation.id"] == CONVERSATION_ID
    assert attrs(conversation)["conversation.type"] == "voice"
    assert attrs(conversation)["tenant"] == "acme"
    assert {attrs(t)["conversation.id"] for t in traced.named("turn")} == {CONVERSATION_ID}


def test_stt_spans_carry_the_callers_words_in_order(traced: Traced) -> None:
    transcripts = [attrs(s)["transcript"] for s in traced.named("stt")]
    assert transcripts == [turn.user for turn in DEFAULT_TURNS]
    assert traced.run.user_texts == transcripts
    assert all(attrs(s)["is_final"] is True for s in traced.named("stt"))


def test_tts_spans_carry_the_agents_spoken_text(traced: Traced) -> None:
    texts = [attrs(s)["text"] for s in traced.named("tts")]
    assert texts == [turn.reply for turn in DEFAULT_TURNS]
    assert traced.run.agent_texts == texts


def test_llm_spans_carry_the_reply_as_output_and_the_history_as_input(traced: Traced) -> None:
    llm = traced.named("llm")
    assert [attrs(s).get("output") for s in llm] == [
        DEFAULT_TURNS[0].reply,
        None,
        *traced.run.agent_texts[1:],
    ]
    first_input = json.loads(str(attrs(llm[0])["input"]))
    assert first_input == [{"role": "user", "content": DEFAULT_TURNS[0].user}]


def test_llm_span_after_a_tool_call_has_the_call_and_its_result_in_its_input(traced: Traced) -> None:
    after_tool = json.loads(str(attrs(traced.named("llm")[2])["input"]))
    call_message, result_message = after_tool[-2], after_tool[-1]
    (tool_call,) = call_message["tool_calls"]
    assert call_message["role"] == "assistant"
    assert tool_call["function"]["name"] == WEATHER_TOOL
    assert json.loads(tool_call["function"]["arguments"]) == {"city": "Paris"}
    assert result_message["role"] == "tool"
    assert result_message["tool_call_id"] == tool_call["id"]
    assert json.loads(result_message["content"]) == weather_for({"city": "Paris"})


def test_run_reports_the_tool_call_the_bot_ran(traced: Traced) -> None:
    expected = ToolCallRecord(WEATHER_TOOL, {"city": "Paris"}, weather_for({"city": "Paris"}))
    assert traced.run.tool_calls == [expected]
    assert traced.run.conversation_id == CONVERSATION_ID


def test_service_spans_name_their_model_and_provider(traced: Traced) -> None:
    models = {"stt": "gpt-transcribe", "llm": MODEL, "tts": "gpt-4o-mini-tts"}
    for name, model in models.items():
        spans = traced.named(name)
        assert {attrs(s)["gen_ai.request.model"] for s in spans} == {model}, name
        assert {attrs(s)["gen_ai.provider.name"] for s in spans} == {"openai"}, name
        assert {attrs(s)["gen_ai.operation.name"] for s in spans} == {"chat" if name == "llm" else name}


def test_llm_spans_report_token_usage_from_the_streams_usage_chunk(traced: Traced) -> None:
    llm = traced.named("llm")
    assert all(isinstance(attrs(s)["gen_ai.usage.input_tokens"], int) for s in llm)
    outputs = [attrs(s)["gen_ai.usage.output_tokens"] for s in llm]
    tool_arguments = json.dumps({"city": "Paris"})
    replies = [DEFAULT_TURNS[0].reply, tool_arguments, DEFAULT_TURNS[1].reply, DEFAULT_TURNS[2].reply]
    assert outputs == [len(text.split()) for text in replies]


def test_llm_and_tts_spans_report_time_to_first_byte(traced: Traced) -> None:
    for span in [*traced.named("llm"), *traced.named("tts")]:
        ttfb = attrs(span)["metrics.ttfb"]
        assert isinstance(ttfb, float), span.name
        assert ttfb > 0, span.name


def test_turns_report_user_bot_latency_and_whether_they_were_interrupted(traced: Traced) -> None:
    turns = traced.named("turn")
    assert all(float(str(attrs(t)["turn.user_bot_latency_seconds"])) > 0 for t in turns)
    # The caller speaking again ends a turn normally; hanging up ends the last one as interrupted.
    assert [attrs(t)["turn.was_interrupted"] for t in turns] == [False, False, True]
    assert "turn.ended_by_conversation_end" not in attrs(turns[-1])


def test_each_run_exports_only_its_own_spans_under_its_own_service_name(traced: Traced) -> None:
    exporter = InMemorySpanExporter()
    second = run_pipecat_conversation(exporter, conversation_id="pipecat-conv-2", service_name="other-bot")
    spans = exporter.get_finished_spans()
    assert {trace.format_trace_id(s.context.trace_id) for s in spans} == {second.trace_id}
    assert second.trace_id != traced.run.trace_id
    assert {s.resource.attributes["service.name"] for s in spans} == {"other-bot"}
    assert {s.resource.attributes["service.name"] for s in traced.spans} == {"pipecat-weather-bot"}
    (conversation,) = [s for s in spans if s.name == "conversation"]
    assert attrs(conversation)["conversation.id"] == "pipecat-conv-2"


def test_a_run_writes_nothing_to_stdout_or_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    run_pipecat_conversation(InMemorySpanExporter(), conversation_id="pipecat-quiet")
    assert capfd.readouterr() == ("", "")


def test_committed_capture_pb_and_json_hold_the_same_pipecat_request() -> None:
    captures = Path(__file__).parent / "captures"
    from_pb = ExportTraceServiceRequest.FromString((captures / "pipecat-1.14.0.pb").read_bytes())
    from_json = json_format.Parse((captures / "pipecat-1.14.0.json").read_text(), ExportTraceServiceRequest())
    assert from_pb == from_json
    names = [span.name for rs in from_pb.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert sorted(set(names)) == ["conversation", "llm", "stt", "tts", "turn"]
    assert names.count("turn") == len(DEFAULT_TURNS)
