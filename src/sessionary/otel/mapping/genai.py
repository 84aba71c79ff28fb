"""Spans of any agent instrumented with the OpenTelemetry GenAI semantic conventions: at least its turns
(`gen_ai.input.messages` / `gen_ai.output.messages`), tool calls (`execute_tool` spans, or calls answered in
a later input) and LLM fields. Runtimes' own mappings use these helpers for their GenAI spans too."""

from __future__ import annotations

from sessionary.otel.mapping import messages
from sessionary.otel.mapping.common import (
    Draft,
    ended,
    latency,
    llm_fields,
    started,
    tool_call,
    transcript,
    updated,
    usage_metadata,
)
from sessionary.otel.spans import Span

CHAT_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})


def is_chat(operation: object) -> bool:
    """Whether `gen_ai.operation.name` names an LLM call (any attribute may hold a list or a map)."""
    return isinstance(operation, str) and operation in CHAT_OPERATIONS


_MS = 1000.0


def map_span(span: Span) -> list[Draft | None]:
    operation = span.attributes.get("gen_ai.operation.name")
    out: list[Draft | None] = []
    if span.is_root:
        out += [started(span, {"channel_manager_type": "otel"}, {}), ended(span)]
    if is_chat(operation):
        out += chat(span, with_turns=True)
    elif operation == "execute_tool" or "gen_ai.tool.name" in span.attributes:
        out.append(execute_tool(span))
    agent = span.attributes.get("gen_ai.agent.name")
    if agent is not None:
        out.append(updated(span, "agent", {"agent_name": agent}, {"agent_name": "gen_ai.agent.name"}))
    return out


def chat(
    span: Span, *, with_turns: bool, first_token: str = "gen_ai.response.time_to_first_chunk"
) -> list[Draft | None]:
    """An LLM call: the session's LLM fields, one latency with its token usage (time to the first token
    from the `first_token` attribute, else the call's duration), the tool calls it answers and,
    `with_turns`, the user's message it answers and the assistant's reply."""
    fields, origin = llm_fields(span)
    out: list[Draft | None] = [updated(span, "llm", fields, origin)]
    first = span.attributes.get(first_token)
    if first is not None:
        out.append(latency(span, "llm", "llm_ttfb", first_token, first, usage_metadata(span)))
    else:
        seconds = (span.end - span.start).total_seconds()
        out.append(latency(span, "llm", "llm_request", "span duration", seconds, usage_metadata(span)))
    inputs = messages.parse(span.attributes.get("gen_ai.input.messages"))
    out += answered_tool_calls(span, inputs)
    if with_turns:
        user = messages.last_user_text(inputs)
        out.append(transcript(span, "user", "user", "gen_ai.input.messages", user, span.start))
        reply = messages.assistant_text(messages.parse(span.attributes.get("gen_ai.output.messages")))
        out.append(transcript(span, "agent", "agent", "gen_ai.output.messages", reply, span.end))
    return out


def answered_tool_calls(
    span: Span, inputs: messages.Raw, attribute: str = "gen_ai.input.messages"
) -> list[Draft | None]:
    """The tool calls (with their results) that this LLM call's input sends back to the model."""
    return [
        tool_call(
            span,
            call_id=call.id,
            name=call.name,
            request=call.arguments,
            result=result,
            origin={"tool_request": attribute, "tool_result": attribute, "tool_name": attribute},
        )
        for call, result in messages.answered_calls(inputs)
        if call.id
    ]


def execute_tool(span: Span) -> Draft | None:
    """A tool's own span (`execute_tool`): the call, its result or error, and its duration."""
    call_id = span.attributes.get("gen_ai.tool.call.id") or span.span_id
    name = span.attributes.get("gen_ai.tool.name")
    if name is None:
        return None
    return tool_call(
        span,
        call_id=call_id,
        name=name,
        request=span.attributes.get("gen_ai.tool.call.arguments"),
        result=None if span.error else span.attributes.get("gen_ai.tool.call.result"),
        error=span.error,
        duration_ms=(span.end - span.start).total_seconds() * _MS,
        origin={
            "tool_call_id": "gen_ai.tool.call.id",
            "tool_name": "gen_ai.tool.name",
            "tool_request": "gen_ai.tool.call.arguments",
            "tool_result": "gen_ai.tool.call.result",
        },
    )
