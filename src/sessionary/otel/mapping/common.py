"""What every runtime's mapping shares: a span's native events as drafts (each knowing the span attribute
each of its values came from), their deterministic ids, and their validation by the native event model."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from sessionary.api.bodies import json_or_text, nul_path
from sessionary.eventlog import schemas
from sessionary.eventlog.schemas import EventIn
from sessionary.otel.spans import Span

# event type -> (its event model, its data model): a span's untrusted values are all in `data`, validated by
# the data model; the event around it (id, type, time, key) is made here and built without validating again.
_MODELS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "session.started": (schemas.SessionStartedEvent, schemas.SessionFields),
    "session.updated": (schemas.SessionUpdatedEvent, schemas.SessionFields),
    "transcript": (schemas.TranscriptEvent, schemas.TranscriptData),
    "tool_call": (schemas.ToolCallEvent, schemas.ToolCallData),
    "latency": (schemas.LatencyEvent, schemas.LatencyData),
    "session.ended": (schemas.SessionEndedEvent, schemas.SessionEndedData),
    "custom": (schemas.CustomEvent, schemas.CustomData),
}
_SESSION_TYPES = frozenset({"session.started", "session.updated"})
_NUL = b"\\u0000"  # how orjson writes U+0000
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
    checked: Any = None  # the validated data model, once `check` took it

    def kept(self) -> dict[str, Any]:
        """The checked event as JSON, less the session key: what a span waiting for its key keeps."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "timestamp": self.timestamp.isoformat(),
            "data": self.checked.model_dump(mode="json", exclude_unset=True),
        }

    def event(self, service: str, sid: str) -> EventIn:
        """The native event under its session's key (`check`ed first)."""
        return build(self.type, self.event_id, self.timestamp, self.checked, service, sid)


def build(type_: str, event_id: str, timestamp: datetime, data: Any, service: str, sid: str) -> EventIn:
    """A native event from its validated data; a session event also names the key as the session's
    conversation (so its LLM fields show on /api/v1/conversations), unless a span named one."""
    if type_ in _SESSION_TYPES and "conversation_id" not in data.model_fields_set:
        data = data.model_copy(update={"conversation_id": sid[:200]})  # a copy: a draft may be keyed again
    values = {
        "event_id": event_id,
        "timestamp": timestamp,
        "channel_manager_service": service,
        "channel_manager_sid": sid,
        "type": type_,
        "data": data,
    }
    event: EventIn = construct(_MODELS[type_][0], values)  # type: ignore[assignment]
    return event


def construct(model: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    """`model.model_construct(**values)` when `values` names every field, without its scan of the model's
    fields for defaults (a third of the cost of keying a span's events). tests/otel/test_mapping_units.py
    checks it against `model_construct`, so a pydantic that builds models otherwise is caught."""
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def revive(kept: dict[str, Any], service: str, sid: str) -> EventIn:
    """A waiting span's event (`Draft.kept`), validated again (it was stored as JSON), under its key."""
    data = _MODELS[kept["type"]][1].model_validate(kept["data"])
    when = datetime.fromisoformat(kept["timestamp"])
    return build(kept["type"], kept["event_id"], when, data, service, sid)


def event_id(span: Span, kind: str) -> str:
    """The id of the span's event of this kind: the same for every export of the same span."""
    return f"otel:{span.trace_id}:{span.span_id}:{kind}"


def trace_event_id(span: Span, kind: str, name: str) -> str:
    """An id shared by every span of the trace that reports the same thing (a tool call by its id)."""
    if len(name) > 64:
        name = hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"otel:{span.trace_id}:{kind}:{name}"


def check(span: Span, draft: Draft) -> Draft:
    """The draft with its data validated by the native model, else Refused naming the attribute at fault."""
    try:
        draft.checked = _MODELS[draft.type][1].model_validate(draft.data)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "data"
        raise Refused(span, draft.origin.get(name, name), error["msg"]) from None
    if _holds_nul(draft):  # PostgreSQL cannot store U+0000 in text or JSONB
        where = nul_path(draft.data, ())
        name = str(where[0]) if where else "tool_call_id"
        raise Refused(span, draft.origin.get(name, name), "must not contain the NUL character (\\u0000)")
    return draft


def _holds_nul(draft: Draft) -> bool:
    if "\x00" in draft.event_id:
        return True
    try:
        return _NUL in orjson.dumps(draft.data)
    except TypeError:  # a value orjson does not write (validated as something else): look closer
        return nul_path(draft.data, ()) is not None


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
        "measurement_start": span.start,
    }
    if metadata:
        data["metadata"] = metadata
    origin = {"value": attribute, "metadata": attribute}
    return Draft(event_id(span, f"latency:{label}"), "latency", span.start, data, origin)


def custom(span: Span, kind: str, type_: str, source: str, attributes: dict[str, Any]) -> Draft:
    data = {"type": type_, "source": source, "source_id": span.span_id, "attributes": attributes}
    return Draft(event_id(span, kind), "custom", span.end, data)


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
            data[key] = json_or_text(value)
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
