"""One global OpenTelemetry tracer provider for the whole process, routing to a fresh SDK provider per run.

Pipecat takes its tracers from the global provider (`opentelemetry.trace.get_tracer`), which a process may
set only once. The router set here hands each `get_tracer` call to the provider of the run in progress, so
each run has its own resource (service name) and its own exporter, and runs in one process stay apart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.util.types import Attributes, AttributeValue


class RoutingTracerProvider(trace.TracerProvider):
    """The process-wide provider: the run's own SDK provider for Pipecat's tracers, a no-op otherwise.

    Only tracers named `pipecat` or `pipecat.*` are routed: other libraries in the same process (FastAPI
    traces its own requests, and the fake API and sessionary's live test server are FastAPI apps) must not
    add their spans to the bot's trace.
    """

    def __init__(self, scope_prefix: str = "pipecat") -> None:
        self.current: TracerProvider | None = None
        self.scope_prefix = scope_prefix

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> trace.Tracer:
        name = instrumenting_module_name
        routed = name == self.scope_prefix or name.startswith(f"{self.scope_prefix}.")
        if self.current is None or not routed:
            return trace.NoOpTracer()
        return self.current.get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )


class RootTraceRecorder(SpanProcessor):
    """Notes the trace id of the first span named `root_name` that starts."""

    def __init__(self, root_name: str) -> None:
        self.root_name = root_name
        self.trace_id: str | None = None

    def on_start(self, span: Span, parent_context: object = None) -> None:
        if span.name == self.root_name and self.trace_id is None:
            self.trace_id = trace.format_trace_id(span.get_span_context().trace_id)

    def on_end(self, span: ReadableSpan) -> None:
        return None


def global_router() -> RoutingTracerProvider:
    """The router, installed as the global provider on first use; refuses a process that set another."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, RoutingTracerProvider):
        return provider
    router = RoutingTracerProvider()
    trace.set_tracer_provider(router)
    if trace.get_tracer_provider() is not router:
        raise RuntimeError("another global tracer provider is already set in this process")
    return router


@contextmanager
def traced_run(
    exporter: SpanExporter, *, resource: Mapping[str, AttributeValue], recorder: RootTraceRecorder
) -> Iterator[TracerProvider]:
    """Route the global provider to a new SDK provider exporting to `exporter` for the block.

    At the end the provider is shut down: its batch is flushed to the exporter and the exporter shut down,
    as when a bot process exits.
    """
    router = global_router()
    if router.current is not None:
        raise RuntimeError("a traced run is already in progress in this process")
    provider = TracerProvider(resource=Resource.create(dict(resource)))
    provider.add_span_processor(recorder)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    router.current = provider
    try:
        yield provider
    finally:
        router.current = None
        provider.shutdown()
