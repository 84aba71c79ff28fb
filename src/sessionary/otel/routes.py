"""OTLP/HTTP trace ingest: POST /otel/v1/traces (so OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:PORT/otel).

Key first (401/403 before any body is read), then the whole body (under body_limit.py's size and read-time
bounds), the gate (a bounded queue: past it 503 + Retry-After, which exporters retry), and only then the
decode and the write transaction. Every answer is in the request's encoding (wire.py)."""

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sessionary.errors import error_headers
from sessionary.gate import Gate
from sessionary.otel import wire
from sessionary.otel.combiner import WriteCombiner
from sessionary.otel.decode import OtlpError, decode, encoding_of, inflate
from sessionary.otel.service import map_spans
from sessionary.otel.spans import spans_of
from sessionary.siblings import Siblings
from sessionary.tenancy.deps import Ingester

TRACES_PATH = "/otel/v1/traces"
PREFIX = "/otel/"
log = logging.getLogger(__name__)
Handler = Callable[[Request, Any], Awaitable[Response]]


async def _whole_body(request: Request) -> bytes:
    return await request.body()


Body = Annotated[bytes, Depends(_whole_body)]


_OTLP_CONTENT = {
    "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
    "application/json": {"schema": {"type": "object"}},
}
_ANSWERS = {
    200: "ExportTraceServiceResponse; its partial_success counts and names the refused spans",
    400: "google.rpc.Status: the body cannot be decoded",
    401: "google.rpc.Status: no API key, or an unknown one",
    403: "google.rpc.Status: the key lacks the ingest scope",
    408: "google.rpc.Status: the body arrived too slowly",
    413: "google.rpc.Status: over the size or span limit",
    415: "google.rpc.Status: neither application/x-protobuf nor application/json, or not gzip",
    429: "google.rpc.Status: too many failed authentications from this address (see Retry-After)",
    503: "google.rpc.Status: busy, retry after Retry-After",
}


def _answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": _OTLP_CONTENT}


def build_router(
    *, max_bytes: int, max_spans: int, concurrency: int, max_waiting: int, siblings: Siblings | None = None
) -> APIRouter:
    router = APIRouter(tags=["otel"])
    gated = Depends(Gate(concurrency, max_waiting=max_waiting, siblings=siblings).hold, scope="function")
    combiner = WriteCombiner()  # this process's group commit (combiner.py)

    @router.post(
        TRACES_PATH,
        operation_id="otlp_export_traces",
        response_class=Response,
        responses={status: _answer(text) for status, text in _ANSWERS.items()},
        openapi_extra={"requestBody": {"required": True, "content": _OTLP_CONTENT}},
    )
    def export_traces(
        request: Request, principal: Ingester, body: Body, _gate: Annotated[None, gated]
    ) -> Response:
        """Store the spans of an OTLP export (binary protobuf or OTLP/JSON, gzip or not) as sessions."""
        encoding = encoding_of(request.headers.get("content-type"))
        try:
            if encoding is None:
                raise OtlpError(415, "Content-Type: send application/x-protobuf or application/json")
            raw = inflate(body, request.headers.get("content-encoding"), max_bytes=max_bytes)
            message = decode(raw, encoding)
            count = sum(len(s.spans) for r in message.resource_spans for s in r.scope_spans)
            if count > max_spans:
                raise OtlpError(
                    413, f"spans: {count} in one request; the limit is {max_spans}, export smaller batches"
                )
        except OtlpError as error:
            return wire.failure(error.status, error.message, encoding)
        mapped, outcome = map_spans(spans_of(message))
        if mapped:
            outcome.record(combiner.store(request.app.state.db, principal.organization_id, mapped))
        log.info(
            "otel: %d spans: %d events stored (%d already; with the exports merged into its transaction), "
            "%d spans waiting for their session, "
            "%d ignored (no mapping), %d refused",
            outcome.spans,
            outcome.inserted,
            outcome.duplicates,
            outcome.waiting,
            outcome.ignored,
            len(outcome.rejected),
        )
        return wire.success(outcome.rejected, encoding)

    return router


def per_face(other: Handler) -> Handler:
    """An exception handler answering /otel/ requests with an OTLP Status, the rest with `other`."""

    async def handler(request: Request, exc: Any) -> Response:
        if not request.url.path.startswith(PREFIX):
            return await other(request, exc)
        status = int(getattr(exc, "status_code", 400))
        detail = getattr(exc, "detail", None) or str(exc)
        headers = (
            error_headers(exc) if hasattr(exc, "retry_after") else dict(getattr(exc, "headers", None) or {})
        )
        return wire.failure(status, str(detail), encoding_of(request.headers.get("content-type")), headers)

    return handler
