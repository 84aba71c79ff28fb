"""The spans of an export request, flattened: ids in hex, times as UTC datetimes, attributes as Python
values, each span with its resource's attributes and its instrumentation scope's name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the messages come with the request (decode.py imports them when one arrives)
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanMessage

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Attributes = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Span:
    trace_id: str  # 32 lowercase hex digits
    span_id: str  # 16 lowercase hex digits
    parent_id: str  # "" for a trace's root span
    name: str
    start: datetime
    end: datetime
    attributes: Attributes
    resource: Attributes
    scope: str
    error: str | None  # the status message of a span whose status is ERROR

    @property
    def is_root(self) -> bool:
        return not self.parent_id

    def attr(self, *keys: str) -> Any:
        """The value of the first of `keys` the span's attributes have (None if none)."""
        for key in keys:
            value = self.attributes.get(key)
            if value is not None:
                return value
        return None


class BadSpan(Exception):
    """A span that cannot be read at all (no valid ids or times): refused, named in partial_success."""

    def __init__(self, span_id: str, field: str, reason: str) -> None:
        super().__init__(f"span {span_id or '?'}: {field}: {reason}")
        self.span_id = span_id


def spans_of(request: ExportTraceServiceRequest) -> Iterator[Span | BadSpan]:
    """Each span of the request in order, or a BadSpan in its place."""
    for resource_spans in request.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for message in scope_spans.spans:
                try:
                    yield _span(message, resource, scope)
                except BadSpan as bad:
                    yield bad


def _span(message: SpanMessage, resource: Attributes, scope: str) -> Span:
    span_id = message.span_id.hex()
    if len(message.span_id) != 8 or not any(message.span_id):
        raise BadSpan(span_id, "spanId", "must be 8 bytes, not all zero")
    if len(message.trace_id) != 16 or not any(message.trace_id):
        raise BadSpan(span_id, "traceId", "must be 16 bytes, not all zero")
    if message.parent_span_id and len(message.parent_span_id) != 8:
        raise BadSpan(span_id, "parentSpanId", "must be 8 bytes or empty")
    if not message.start_time_unix_nano:
        raise BadSpan(span_id, "startTimeUnixNano", "is missing")
    end_ns = message.end_time_unix_nano or message.start_time_unix_nano
    if end_ns < message.start_time_unix_nano:
        raise BadSpan(span_id, "endTimeUnixNano", "is before startTimeUnixNano")
    from opentelemetry.proto.trace.v1.trace_pb2 import Status  # imported already, with the request's

    error = (message.status.message or "error") if message.status.code == Status.STATUS_CODE_ERROR else None
    return Span(
        trace_id=message.trace_id.hex(),
        span_id=span_id,
        parent_id=message.parent_span_id.hex() if any(message.parent_span_id) else "",
        name=message.name,
        start=_when(message.start_time_unix_nano),
        end=_when(end_ns),
        attributes=attributes_of(message.attributes),
        resource=resource,
        scope=scope,
        error=error,
    )


def _when(nanoseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=nanoseconds // 1000)


def attributes_of(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP key-value pairs as a dict (the last of a repeated key wins, as the SDKs do)."""
    return {pair.key: value_of(pair.value) for pair in pairs}


def value_of(value: AnyValue) -> Any:
    """An AnyValue as str, bool, int, float, bytes, list or dict (None when unset)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":  # most attributes
        return value.string_value
    if kind is None:
        return None
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    return getattr(value, kind)
