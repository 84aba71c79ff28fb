"""Pipecat's spans (`pipecat/utils/tracing/`: the turn trace observer's `conversation` and `turn`, the
`traced_stt` / `traced_llm` / `traced_tts` decorators' `stt`, `llm`, `tts`, and the realtime services'
operation spans), as native events. README "Connect your agent" has the table."""

from __future__ import annotations

from typing import Any

from sessionary.otel.mapping import genai, messages
from sessionary.otel.mapping.common import Draft, custom, ended, latency, started, transcript
from sessionary.otel.spans import Span

SOURCE = "pipecat"


def map_span(span: Span) -> list[Draft | None]:
    name = span.name
    if name == "conversation":
        kind = span.attributes.get("conversation.type") or "voice"
        fields = {"channel_manager_type": f"pipecat_{kind}"[:200]}
        return [started(span, fields, {"channel_manager_type": "conversation.type"}), ended(span)]
    if name == "turn":
        return _turn(span)
    if name == "stt":
        return [
            # at the end: the words are final then (the span opens when the caller starts speaking, which
            # may be before the bot has finished its previous reply)
            transcript(span, "user", "user", "transcript", span.attributes.get("transcript"), span.end),
            latency(span, "stt", "stt_ttfb", "metrics.ttfb", span.attributes.get("metrics.ttfb")),
        ]
    if name == "tts":
        return [
            transcript(span, "agent", "agent", "text", span.attributes.get("text"), span.start),
            latency(span, "tts", "tts_ttfb", "metrics.ttfb", span.attributes.get("metrics.ttfb")),
        ]
    return _llm(span)


def _turn(span: Span) -> list[Draft | None]:
    attrs = span.attributes
    out = [
        latency(
            span,
            "llm",
            "user_bot_latency",
            "turn.user_bot_latency_seconds",
            attrs.get("turn.user_bot_latency_seconds"),
        )
    ]
    if attrs.get("turn.was_interrupted") is True and not attrs.get("turn.ended_by_conversation_end"):
        details: dict[str, Any] = {"turn_number": attrs.get("turn.number")}
        out.append(custom(span, "interrupted", "interruption", SOURCE, details))
    return out


def _llm(span: Span) -> list[Draft | None]:
    """`llm` spans and the realtime services' operation spans (`llm_request`, `llm_response`, ...)."""
    attrs = span.attributes
    if (
        not genai.is_chat(attrs.get("gen_ai.operation.name"))
        and "input" not in attrs
        and "output" not in attrs
        and "transcript" not in attrs
    ):
        return []
    out: list[Draft | None] = []
    if span.name == "llm":
        out += genai.chat(span, with_turns=False, first_token="metrics.ttfb")
    inputs = messages.parse(attrs.get("input"), only_with_tools=True)
    out += genai.answered_tool_calls(span, inputs, "input")
    if span.name != "llm":  # speech-to-speech: the model's own words and what it heard
        out.append(transcript(span, "agent", "agent", "output", attrs.get("output"), span.start))
        heard = attrs.get("transcript")
        source = "user" if attrs.get("transcript.is_input", True) else "agent"
        out.append(transcript(span, f"heard:{source}", source, "transcript", heard, span.start))
    return out
