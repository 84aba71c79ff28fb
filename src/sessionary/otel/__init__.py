"""OpenTelemetry traces of voice-agent runtimes (Pipecat, LiveKit Agents, any GenAI-instrumented agent) as
sessions: `POST /otel/v1/traces` (OTLP/HTTP), mapped to native events and stored by the one ingest service."""
