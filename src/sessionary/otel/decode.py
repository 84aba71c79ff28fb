"""An OTLP/HTTP trace export request's body, decoded by `opentelemetry-proto` in either encoding.

Binary protobuf (`application/x-protobuf`) is parsed by the generated message. OTLP/JSON
(`application/json`) is protobuf's JSON mapping with two differences the OTLP spec makes: trace and span ids
are hex strings, not base64, and enums may be integers. protobuf's `json_format` parser takes the integers;
the ids are turned into base64 before it runs (the one hand-written step: no library reads OTLP/JSON ids).
A gzip body (`Content-Encoding: gzip`) is inflated with a bound on its inflated size.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


class OtlpError(Exception):
    """A request the OTLP face refuses: the status code and a message naming what is wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def encoding_of(content_type: str | None) -> str | None:
    """The OTLP encoding a Content-Type names (parameters such as charset ignored), else None."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media if media in (PROTOBUF, JSON) else None


def inflate(body: bytes, content_encoding: str | None, *, max_bytes: int) -> bytes:
    """The body without its Content-Encoding (gzip or none); 413 past `max_bytes` inflated."""
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding != "gzip":
        raise OtlpError(415, f"Content-Encoding: {coding!r} is not supported; send gzip or none")
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise OtlpError(400, f"body: not valid gzip ({exc})") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise OtlpError(413, f"body: more than {max_bytes} bytes once inflated; send smaller batches")
    if not inflater.eof:
        raise OtlpError(400, "body: the gzip stream is truncated")
    return out


def decode(body: bytes, encoding: str) -> ExportTraceServiceRequest:
    """The request message, or OtlpError(400) naming why it cannot be read."""
    # protobuf and the OTLP messages are imported at the first export: 3 MB in every server process else.
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    if encoding == PROTOBUF:
        try:
            request.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise OtlpError(400, f"body: not an ExportTraceServiceRequest in protobuf ({exc})") from None
        return request
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpError(400, f"body: not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise OtlpError(400, "body: an OTLP/JSON ExportTraceServiceRequest is a JSON object")
    _ids_to_base64(document)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True, max_recursion_depth=64)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        raise OtlpError(400, f"body: not an OTLP/JSON ExportTraceServiceRequest ({exc})") from None
    return request


def _ids_to_base64(document: dict[str, Any]) -> None:
    """Rewrite the hex ids of every span and span link as base64, in place (OTLP/JSON -> proto3 JSON).

    Only the known structure is walked (resource spans -> scope spans -> spans -> links), so a document
    nested deep elsewhere costs nothing here (protobuf's parser bounds its depth)."""
    for r, resource in enumerate(_items(document, "resourceSpans", "resource_spans")):
        for s, scope in enumerate(_items(resource, "scopeSpans", "scope_spans")):
            for n, span in enumerate(_items(scope, "spans")):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                _rewrite(span, where)
                for k, link in enumerate(_items(span, "links")):
                    _rewrite(link, f"{where}.links[{k}]")


def _items(node: Any, *keys: str) -> list[Any]:
    """The list under the first of `keys` that `node` has (lowerCamelCase or the proto field name)."""
    if not isinstance(node, dict):
        return []
    for key in keys:
        value = node.get(key)
        if isinstance(value, list):
            return value
    return []


def _rewrite(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key in _ID_KEYS:
            value = node.get(key)
            if isinstance(value, str):
                node[key] = _hex_to_base64(value, f"{where}.{key}")


def _hex_to_base64(value: str, where: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except (ValueError, binascii.Error):
        raise OtlpError(400, f"{where}: {value[:40]!r} is not a hex id") from None
