"""The OTLP/HTTP answers, in the request's encoding: an ExportTraceServiceResponse (with partial_success
when spans were refused), or a google.rpc.Status for every 4xx and 5xx, as the OTLP spec asks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from sessionary.otel.decode import JSON, PROTOBUF

if TYPE_CHECKING:  # protobuf is imported at the first answer (3 MB in every server process otherwise)
    from google.protobuf.message import Message

MESSAGE_MAX_ERRORS = 20  # refused spans named in one partial_success message (the rest are counted)
# gRPC status codes of the HTTP statuses the face answers (google.rpc.Code)
_GRPC = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 408: 4, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14}


def success(rejected: list[str], encoding: str) -> Response:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTracePartialSuccess,
        ExportTraceServiceResponse,
    )

    response = ExportTraceServiceResponse()
    if rejected:
        shown = rejected[:MESSAGE_MAX_ERRORS]
        more = len(rejected) - len(shown)
        message = "; ".join(shown) + (f"; and {more} more" if more else "")
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=len(rejected), error_message=message)
        )
    return _encoded(response, 200, encoding, {})


def failure(
    status: int, message: str, encoding: str | None, headers: dict[str, str] | None = None
) -> Response:
    from google.rpc.status_pb2 import Status

    return _encoded(Status(code=_GRPC.get(status, 2), message=message), status, encoding, headers or {})


def _encoded(message: Message, status: int, encoding: str | None, headers: dict[str, str]) -> Response:
    if encoding == PROTOBUF:
        return Response(message.SerializeToString(), status, headers, media_type=PROTOBUF)
    from google.protobuf import json_format

    body = json_format.MessageToJson(message, indent=None)
    return Response(body, status, headers, media_type=JSON)
