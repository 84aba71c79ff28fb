"""Test helpers: spans made by the OpenTelemetry SDK's own tracer, kept in memory, then sent by the real
OTLP/HTTP exporter (`opentelemetry-exporter-otlp-proto-http`) or encoded by its encoder."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from sessionary.config import Settings
from tests.helpers import LiveServer

TRACES = "/otel/v1/traces"


class Recorder:
    """A tracer provider of its own (the global one is left alone) whose spans are kept in memory."""

    def __init__(self, service: str = "support-bot") -> None:
        self.memory = InMemorySpanExporter()
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))

    def tracer(self, scope: str = "my-agent") -> Tracer:
        return self.provider.get_tracer(scope)

    def spans(self) -> list[ReadableSpan]:
        return list(self.memory.get_finished_spans())


def exporter(url: str, key: str, *, gzip_body: bool = False) -> OTLPSpanExporter:
    """The SDK's OTLP/HTTP exporter, configured as a user would (endpoint, bearer header)."""
    return OTLPSpanExporter(
        endpoint=f"{url}{TRACES}",
        headers={"Authorization": f"Bearer {key}"},
        compression=Compression.Gzip if gzip_body else Compression.NoCompression,
        timeout=30,
    )


def export(url: str, key: str, spans: Sequence[ReadableSpan], *, gzip_body: bool = False) -> None:
    sender = exporter(url, key, gzip_body=gzip_body)
    try:
        assert sender.export(list(spans)) == SpanExportResult.SUCCESS
    finally:
        sender.shutdown()


def protobuf_body(spans: Sequence[ReadableSpan]) -> bytes:
    """The exporter's own protobuf body for these spans."""
    return encode_spans(list(spans)).SerializeToString()


def json_body(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """The same request in OTLP/JSON: protobuf's JSON mapping with the ids in hex (the OTLP spec's rule)."""
    document = json_format.MessageToDict(encode_spans(list(spans)))
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return document


def post(
    client: httpx.Client, key: str, body: bytes, content_type: str, *, gzipped: bool = False
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return client.post(TRACES, content=body, headers=headers)


@contextmanager
def server_with(database_url: str, blob_dir: Path, **overrides: Any) -> Iterator[LiveServer]:
    """A live server on the session's database with some settings of its own (analysis worker off unless
    `overrides` turn it on)."""
    settings = Settings(
        **{"database_url": database_url, "blob_dir": blob_dir, "analysis_worker": False, **overrides}
    )
    with LiveServer.start(settings) as live:
        yield live
