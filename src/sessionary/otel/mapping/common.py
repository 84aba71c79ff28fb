"""What every runtime's mapping shares: a span's native events as drafts (each knowing the span attribute
each of its values came from), their deterministic ids, and their validation by the native event model."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from sessionary.api.bodies import nul_path
from sessionary.eventlog.schemas import EventIn
from sessionary.otel.spans import Span

EVENT: TypeAdapter[Any] = TypeAdapter(EventIn)
_KEY_FIELDS = {"channel_manager_service", "channel_manager_sid"}
_PLACEHOLDER = {"channel_manager_service": "otel", "channel_manager_sid": "pending"}
# Session fields any span may set with attributes of their own name (README "Connect your agent").
OVERRIDES = {
    "sessionary.channel_manager_type": "channel_manager_type",
    "sessionary.agent_name": "agent_name",
    "sessionary.agent_id": "agent_id",
    "sessionary.source": "source",
    "sessionary.target": "target",
    "sessionary.is_test": "is_test",
    "sessionary.is_outbound": "is_outbound",
}
_LLM_FIELDS = {
    "gen_ai.provider.name": "llm_provider",
    "gen_ai.request.model": "llm_model",
    "gen_ai.request.temperature": "llm_temperature",
    "gen_ai.request.seed": "llm_seed",
}


class Refused(Exception):
    """A span whose value cannot be stored: named (span id, attribute) in the answer's partial_success."""

    def __init__(self, span: Span, attribute: str, reason: str) -> None:
        super().__init__(f"span {span.span_id}: attribute {attribute}: {reason}")


@dataclass(slots=True)
class Draft:
    """One native event made from a span, without its session key yet."""

    event_id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]
    origin: dict[str, str] = field(default_factory=dict)  # data field -> span attribute it came from
    model: Any = None  # the validated native event (with a placeholder session key), once checked

    def wire(self) -> dict[str, Any]:
        """The event's native fields as drafted, less the session key."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "timestamp": self.timestamp.isoformat(),
            "data": self.data,
        }

    def kept(self) -> dict[str, Any]:
        """The checked event as JSON, less the session key: what a span waiting for its key keeps."""
        return dict(self.model.model_dump(mode="json", exclude_unset=True, exclude=_KEY_FIELDS))


def event_id(span: Span, kind: str) -> str:
    """The id of the span's event of this kind: the same for every export of the same span."""
    return f"otel:{span.trace_id}:{span.span_id}:{kind}"


def trace_event_id(span: Span, kind: str, name: str) -> str:
    """An id shared by every span of the trace that reports the same thing (a tool call by its id)."""
    if len(name) > 64:
        name = hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"otel:{span.trace_id}:{kind}:{name}"


def check(span: Span, draft: Draft) -> Draft:
    """The draft if the native event model takes it, else Refused naming the attribute at fault."""
    fields = draft.wire()
    try:
        draft.model = EVENT.validate_python({**fields, **_PLACEHOLDER})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = [str(part) for part in error["loc"][2:]]  # (type, "data", field, ...)
        name = where[0] if where else "data"
        attribute = draft.origin.get(name, name)
        raise Refused(span, attribute, error["msg"]) from None
    where = nul_path(fields, ())
    if where:  # PostgreSQL cannot store U+0000 in text or JSONB
        field = str(where[1]) if where[0] == "data" and len(where) > 1 else "tool_call_id"
        raise Refused(span, draft.origin.get(field, field), "must not contain the NUL character (\\u0000)")
    return draft


def session_fields(span: Span, fields: dict[str, Any], origin: dict[str, str]) -> None:
    """Add the `sessionary.*` overrides the span carries to a session event's fields."""
    for attribute, name in OVERRIDES.items():
        value = span.attributes.get(attribute)
        if value is not None:
            fields[name] = value
            origin[name] = attribute


def llm_fields(span: Span) -> tuple[dict[str, Any], dict[str, str]]:
    """The session's LLM fields (provider, model, temperature, seed) from GenAI attributes."""
    fields: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for attribute, name in _LLM_FIELDS.items():
        value = span.attributes.get(attribute)
        if value is not None:
            fields[name] = float(value) if name == "llm_temperature" and isinstance(value, int) else value
            origin[name] = attribute
    return fields, origin


def started(span: Span, fields: dict[str, Any], origin: dict[str, str]) -> Draft:
    session_fields(span, fields, origin)
    return Draft(event_id(span, "started"), "session.started", span.start, fields, origin)


def ended(span: Span) -> Draft:
    return Draft(event_id(span, "ended"), "session.ended", span.end, {})


def updated(span: Span, kind: str, fields: dict[str, Any], origin: dict[str, str]) -> Draft | None:
    session_fields(span, fields, origin)
    if not fields:
        return None
    return Draft(event_id(span, kind), "session.updated", span.start, fields, origin)


def transcript(span: Span, kind: str, source: str, attribute: str, text: Any, at: datetime) -> Draft | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    data = {"source": source, "text": text}
    return Draft(event_id(span, kind), "transcript", at, data, {"text": attribute})


def latency(
    span: Span,
    category: str,
    label: str,
    attribute: str,
    seconds: Any,
    metadata: list[str] | None = None,
) -> Draft | None:
    """A latency entry of `seconds` (an attribute's value) measured from the span's start."""
    if seconds is None:
        return None
    data: dict[str, Any] = {
        "category": category,
        "label": label,
        "unit": "seconds",
        "value": seconds,
        "measurement_start": span.start.isoformat(),
    }
    if metadata:
        data["metadata"] = metadata
    origin = {"value": attribute, "metadata": attribute}
    return Draft(event_id(span, f"latency:{label}"), "latency", span.start, data, origin)


def custom(span: Span, kind: str, type_: str, source: str, attributes: dict[str, Any]) -> Draft:
    data = {"type": type_, "source": source, "source_id": span.span_id, "attributes": attributes}
    return Draft(event_id(span, kind), "custom", span.end, data)


def payload(value: Any) -> Any:
    """A tool payload: JSON text parsed when it is JSON, else kept as the string it is."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def tool_call(
    span: Span,
    *,
    call_id: Any,
    name: Any,
    request: Any,
    result: Any = None,
    error: Any = None,
    duration_ms: float | None = None,
    at: datetime | None = None,
    origin: dict[str, str] | None = None,
) -> Draft:
    """A tool call, its id shared by every span reporting the same call (`trace_event_id`)."""
    data: dict[str, Any] = {"tool_call_id": str(call_id), "tool_name": name}
    for key, value in (("tool_request", request), ("tool_result", result), ("tool_error", error)):
        if value is not None:
            data[key] = payload(value)
    if duration_ms is not None:
        data["duration_ms"] = duration_ms
    draft_id = trace_event_id(span, "tool", str(call_id))
    return Draft(draft_id, "tool_call", at or span.start, data, origin or {})


def usage_metadata(span: Span) -> list[str]:
    """Token usage and model of a GenAI span, as latency metadata strings (`input_tokens=123`, ...)."""
    out = []
    model = span.attributes.get("gen_ai.response.model") or span.attributes.get("gen_ai.request.model")
    if model:
        out.append(f"model={model}"[:200])
    for key, value in sorted(span.attributes.items()):
        if key.startswith("gen_ai.usage.") and isinstance(value, int | float):
            out.append(f"{key.removeprefix('gen_ai.usage.')}={value}")
    return out[:100]
