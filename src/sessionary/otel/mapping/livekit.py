"""LiveKit Agents' spans (`livekit/agents/telemetry/`: `agent_session`, `user_turn`, `agent_turn`,
`llm_node`, `function_tool`, `tts_node` / `tts_request`, `llm_request`), as native events. Every content
attribute is read by its name since LiveKit's August 2026 rename (`lk.pii.*`) and by the name before it.
README "Connect your agent" has the table."""

from __future__ import annotations

from sessionary.otel.mapping import genai
from sessionary.otel.mapping.common import (
    Draft,
    custom,
    ended,
    latency,
    started,
    tool_call,
    transcript,
    updated,
)
from sessionary.otel.spans import Span

SOURCE = "livekit"
USER_TRANSCRIPT = ("lk.pii.user_transcript", "lk.user_transcript")
RESPONSE_TEXT = ("lk.pii.response.text", "lk.response.text")
USER_INPUT = ("lk.pii.user_input", "lk.user_input")
# On an agent_turn, what only a spoken turn has: a turn that replied without them answered typed text
# (text mode, or text sent into a voice session), which no user_turn span carries. (Before 1.7 a reply
# after a tool call is a second agent_turn; the first, holding the user input, has no reply: not mapped.)
_SPOKEN = ("lk.e2e_latency", "lk.end_of_turn_delay", "lk.transcription_delay")
TOOL_ARGUMENTS = ("lk.pii.function_tool.arguments", "lk.function_tool.arguments")
TOOL_OUTPUT = ("lk.pii.function_tool.output", "lk.function_tool.output")
AGENT_NAME = ("lk.agent_name", "gen_ai.agent.name", "lk.agent_label")
# attribute -> (latency category, label): read on whichever span carries it
LATENCIES = {
    "lk.response.ttft": ("llm", "llm_ttft"),
    "lk.response.ttfb": ("tts", "tts_ttfb"),
    "lk.end_of_turn_delay": ("stt", "end_of_turn_delay"),
    "lk.transcription_delay": ("stt", "transcription_delay"),
    "lk.e2e_latency": ("llm", "e2e_latency"),
}
_REPLY_SPANS = frozenset({"llm_node", "realtime_generation", "realtime_inference"})
_MS = 1000.0


def map_span(span: Span) -> list[Draft | None]:
    out: list[Draft | None] = _by_name(span)
    for attribute, (category, label) in LATENCIES.items():
        out.append(latency(span, category, label, attribute, span.attributes.get(attribute)))
    user = _first(span, USER_TRANSCRIPT)
    if user:
        out.append(transcript(span, "user", "user", user[0], user[1], span.start))
    typed = _first(span, USER_INPUT) if span.name == "agent_turn" else None
    if typed and _first(span, RESPONSE_TEXT) and not any(key in span.attributes for key in _SPOKEN):
        out.append(transcript(span, "user", "user", typed[0], typed[1], span.start))
    reply = _first(span, RESPONSE_TEXT)
    if reply and span.name in _REPLY_SPANS:
        out.append(transcript(span, "agent", "agent", reply[0], reply[1], span.start))
    return out


def _by_name(span: Span) -> list[Draft | None]:
    if span.name == "agent_session":
        fields: dict[str, object] = {"channel_manager_type": "livekit_voice"}
        origin: dict[str, str] = {}
        named = _first(span, AGENT_NAME)
        if named:
            fields["agent_name"], origin["agent_name"] = named[1], named[0]
        return [started(span, fields, origin), ended(span)]
    if span.name == "job_entrypoint":
        named = _first(span, AGENT_NAME)
        if named and named[1]:
            return [updated(span, "agent", {"agent_name": named[1]}, {"agent_name": named[0]})]
        return []
    if span.name == "function_tool":
        return [_function_tool(span)]
    if span.name == "agent_turn" and span.attributes.get("lk.interrupted") is True:
        return [
            custom(
                span,
                "interrupted",
                "interruption",
                SOURCE,
                {"speech_id": span.attributes.get("lk.speech_id")},
            )
        ]
    if genai.is_chat(span.attributes.get("gen_ai.operation.name")):
        return genai.chat(span, with_turns=False)
    return []


def _function_tool(span: Span) -> Draft | None:
    name = span.attributes.get("lk.function_tool.name")
    if name is None:
        return None
    arguments = _first(span, TOOL_ARGUMENTS)
    output = _first(span, TOOL_OUTPUT)
    failed = span.attributes.get("lk.function_tool.is_error") is True or span.error is not None
    value = output[1] if output else None
    return tool_call(
        span,
        call_id=span.attributes.get("lk.function_tool.id") or span.span_id,
        name=name,
        request=arguments[1] if arguments else None,
        result=None if failed else value,
        error=(value or span.error) if failed else None,
        duration_ms=(span.end - span.start).total_seconds() * _MS,
        origin={
            "tool_call_id": "lk.function_tool.id",
            "tool_name": "lk.function_tool.name",
            "tool_request": arguments[0] if arguments else TOOL_ARGUMENTS[0],
            "tool_result": output[0] if output else TOOL_OUTPUT[0],
            "tool_error": output[0] if output else TOOL_OUTPUT[0],
        },
    )


def _first(span: Span, keys: tuple[str, ...]) -> tuple[str, object] | None:
    """The first of `keys` the span has, with its value."""
    for key in keys:
        value = span.attributes.get(key)
        if value is not None:
            return key, value
    return None
