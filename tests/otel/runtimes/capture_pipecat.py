"""Capture the spans of one offline Pipecat call as an OTLP `ExportTraceServiceRequest`.

Regenerate (from the repository root, with the project's virtualenv):

    PYTHONPATH=$PWD/src:$PWD python -m tests.otel.runtimes.capture_pipecat

It runs the scripted call of `pipecat_bot` (Pipecat's own tracing, offline services) once and writes, next to
each other in tests/otel/captures/:

- `pipecat-<version>.pb`: the request encoded by the OTLP exporter's own encoder (`encode_spans`), i.e. the
  exact body `OTLPSpanExporter` POSTs to `/v1/traces`;
- `pipecat-<version>.json`: the same message through protobuf's `MessageToJson` (proto3 JSON mapping:
  camelCase names, 64-bit integers as strings, and ids as base64, where the OTLP/JSON wire format uses hex).

Ids and timestamps change on every run; the span names, structure and attributes do not.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

from google.protobuf.json_format import MessageToJson
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.otel.runtimes.pipecat_bot import run_pipecat_conversation

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def capture(directory: Path = CAPTURES) -> tuple[Path, Path]:
    """Run the bot once and write its spans as `.pb` and `.json`; returns the two paths."""
    exporter = InMemorySpanExporter()
    run_pipecat_conversation(exporter, conversation_id="pipecat-capture-1", extra={"tenant": "acme"})
    request = encode_spans(exporter.get_finished_spans())
    stem = f"pipecat-{version('pipecat-ai')}"
    pb, js = directory / f"{stem}.pb", directory / f"{stem}.json"
    directory.mkdir(parents=True, exist_ok=True)
    pb.write_bytes(request.SerializeToString())
    js.write_text(MessageToJson(request, indent=2) + "\n")
    return pb, js


if __name__ == "__main__":
    for path in capture():
        sys.stdout.write(f"wrote {path}\n")
