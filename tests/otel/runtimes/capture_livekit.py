"""Capture the spans of one offline LiveKit Agents session as an OTLP/JSON file.

Runs ``livekit_bot.run_livekit_session`` under whichever livekit-agents is installed in the running
interpreter and writes the spans, encoded by the OTLP exporter's own ``encode_spans``, as an OTLP/JSON
``ExportTraceServiceRequest`` to ``tests/otel/captures/livekit-<version>.json``.

Regenerate (from the repository root):

    # the version in the project's virtualenv (1.8.9, attribute names after the lk.pii.* rename)
    PYTHONPATH=$PWD /work/main/.venv/bin/python -m tests.otel.runtimes.capture_livekit

    # 1.6.10, the newest release before the rename (lk.user_transcript, lk.response.text, ...)
    python3 -m venv /tmp/lkold
    /tmp/lkold/bin/pip install livekit-agents==1.6.10 opentelemetry-exporter-otlp-proto-http
    PYTHONPATH=$PWD /tmp/lkold/bin/python -m tests.otel.runtimes.capture_livekit

The same bot runs unchanged under both versions; only what LiveKit's tracing emits differs.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict, ParseDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.otel.runtimes.livekit_bot import run_livekit_session

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
HEX_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})


def otlp_json(exporter: InMemorySpanExporter) -> dict[str, Any]:
    """The exporter's spans as OTLP/JSON: protobuf JSON mapping, integer enums, hex trace and span ids."""
    request = encode_spans(exporter.get_finished_spans())
    hexed: dict[str, Any] = _hex_ids(MessageToDict(request, use_integers_for_enums=True))
    return hexed


def read_otlp_json(path: Path) -> ExportTraceServiceRequest:
    """Parse an OTLP/JSON file back into the protobuf message, validating it against the OTLP schema."""
    body = _ids(json.loads(path.read_text()), _base64_id)
    return ParseDict(body, ExportTraceServiceRequest())


def _hex_ids(value: Any) -> Any:
    return _ids(value, _hex_id)


def _ids(value: Any, convert: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {
            key: convert(item) if key in HEX_ID_KEYS else _ids(item, convert) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_ids(item, convert) for item in value]
    return value


def _hex_id(encoded: str) -> str:
    return base64.b64decode(encoded).hex()


def _base64_id(hexed: str) -> str:
    return base64.b64encode(bytes.fromhex(hexed)).decode()


def main() -> None:
    exporter = InMemorySpanExporter()
    run_livekit_session(exporter)
    target = CAPTURES / f"livekit-{version('livekit-agents')}.json"
    target.write_text(json.dumps(otlp_json(exporter), indent=1) + "\n")
    sys.stdout.write(f"{target}\n")


if __name__ == "__main__":
    main()
