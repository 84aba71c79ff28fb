"""Spans to native events, by runtime: Pipecat, LiveKit Agents, and the GenAI conventions for the rest."""

from __future__ import annotations

from collections.abc import Callable

from sessionary.otel.mapping import genai, livekit, pipecat
from sessionary.otel.mapping.common import Draft, check
from sessionary.otel.spans import Span

_RUNTIMES: dict[str, Callable[[Span], list[Draft | None]]] = {
    "pipecat": pipecat.map_span,
    "livekit": livekit.map_span,
    "otel": genai.map_span,
}


def drafts_of(span: Span, runtime: str) -> list[Draft]:
    """The span's native events, each checked by the native event model (Refused names the attribute)."""
    return [check(span, draft) for draft in _RUNTIMES[runtime](span) if draft is not None]
