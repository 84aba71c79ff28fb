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
_SID: TypeAdapter[Any] = TypeAdapter(PathId)
_SERVICE: TypeAdapter[Any] = TypeAdapter(Service)

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
    problem = _service_problem(str(value))
    if problem:
        raise Refused(span, "service.name (resource)", problem)
    return str(value)


@lru_cache(maxsize=1024)
def _service_problem(value: str) -> str | None:
    """Why the native model refuses this service name (None: it takes it); a process sees few of them."""
    try:
        _SERVICE.validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None


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
        problem = _sid_problem(str(value))
        if problem:
            raise Refused(span, attribute, problem)
        return service_of(span), str(value)
    return None


@lru_cache(maxsize=4096)
def _sid_problem(value: str) -> str | None:
    """Why the native model refuses this id (None: it takes it); a trace's spans repeat theirs."""
    try:
        _SID.validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None
