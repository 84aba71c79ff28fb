"""Which session a span names, and which runtime made it.

Session key: the first of KEY_ATTRIBUTES a span (or its resource) carries, with the resource's
`service.name` as `channel_manager_service`; a trace whose root names none is keyed by its trace id.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sessionary.eventlog.schemas import PathId, Service
from sessionary.otel.mapping.common import Refused
from sessionary.otel.spans import Span

KEY_ATTRIBUTES = (
    "session.id",
    "langfuse.session.id",
    "gen_ai.conversation.id",
    "conversation.id",  # Pipecat
    "room_id",  # LiveKit's span metadata (its own exporter, or set_tracer_provider(metadata=...))
    "lk.room_sid",
    "job_id",
    "lk.job_id",
)
DEFAULT_SERVICE = "unknown_service"
_CHECKS: dict[str, TypeAdapter[Any]] = {"sid": TypeAdapter(PathId), "service": TypeAdapter(Service)}

Key = tuple[str, str]


def runtime_of(span: Span) -> str:
    """pipecat | livekit | otel (any other GenAI-instrumented agent), by the span's instrumentation scope."""
    if span.scope.startswith("pipecat"):
        return "pipecat"
    if span.scope.startswith("livekit"):
        return "livekit"
    return "otel"


def service_of(span: Span) -> str:
    """The span's `channel_manager_service`: its resource's `service.name`."""
    value = span.resource.get("service.name")
    if value is None or value == "":
        return DEFAULT_SERVICE
    problem = _problem("service", str(value))
    if problem:
        raise Refused(span, "service.name (resource)", problem)
    return str(value)


def own_key(span: Span, runtime: str) -> Key | None:
    """The session key the span itself names, if it names one."""
    for attribute in KEY_ATTRIBUTES:
        if attribute == "session.id" and runtime == "pipecat" and "service.operation" in span.attributes:
            continue  # Pipecat's realtime spans carry the model provider's session as session.*
        value = span.attributes.get(attribute)
        if value is None:
            value = span.resource.get(attribute)
        if value is None or value == "" or isinstance(value, list | dict | bytes | bool):
            continue
        problem = _problem("sid", str(value))
        if problem:
            raise Refused(span, attribute, problem)
        return service_of(span), str(value)
    return None


@lru_cache(maxsize=4096)
def _problem(kind: str, value: str) -> str | None:
    """Why the native model refuses this `service` name or `sid` (None: it takes it); cached, since a
    process sees few services and a trace's spans repeat their key."""
    try:
        _CHECKS[kind].validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None
