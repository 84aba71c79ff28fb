"""The runtimes' own tracing code, exported by the real OTLP/HTTP exporter to a live server, read back by
the official syllable-sdk, on both databases: a real Pipecat pipeline and a real LiveKit AgentSession run
offline (tests/otel/runtimes), and LiveKit's spans as captured before and after its August 2026 rename."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from syllable_sdk import SyllableSDK

from tests.conftest import Org
from tests.console.helpers import signed_in
from tests.helpers import LiveServer, list_sessions
from tests.otel.otlp import export, exporter
from tests.otel.runtimes.livekit_bot import DEFAULT_TURNS, run_livekit_session, run_livekit_text_session
from tests.otel.runtimes.pipecat_bot import run_pipecat_conversation

CAPTURES = Path(__file__).parent / "captures"


def read_session(url: str, org: Org) -> dict[str, Any]:
    """What the official client reads of the organization's one session."""
    with SyllableSDK(server_url=url, api_key_header=org.read) as sdk:
        items = sdk.sessions.list(limit=10).items or []
        assert len(items) == 1, [(s.channel_manager_service, s.channel_manager_sid) for s in items]
        session = items[0]
        sid = str(session.session_id)
        conversations = sdk.conversations.list(limit=10).items or []
        conversation = next(c for c in conversations if c.conversation_id == session.conversation_id)
        transcript = sdk.sessions.transcript.get_by_id(session_id=sid)
        latency = sdk.sessions.latency.get_by_id(session_id=sid)
        events = sdk.events.list(limit=100).items or []
        return {
            "service": session.channel_manager_service,
            "sid": session.channel_manager_sid,
            "type": session.channel_manager_type,
            "agent": session.agent_name,
            "duration": session.duration,
            "llm": (conversation.llm_provider, conversation.llm_model),
            "turns": [(t.source, t.text) for t in transcript.transcription],
            "tools": [
                (a.tool_name, _json_or_text(a.tool_request), _json_or_text(a.tool_result))
                for a in transcript.actions
            ],
            "latency": [(e.category, e.label, list(e.metadata or [])) for e in latency.timeline or []],
            "events": sorted(str(e.type) for e in events),
        }


def _json_or_text(value: str | None) -> Any:
    try:
        return orjson.loads(value or "null")
    except orjson.JSONDecodeError:
        return value


def interleaved(users: list[str], agents: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for user, agent in zip(users, agents, strict=True):
        out += [("user", user), ("agent", agent)]
    return out


# --- Pipecat -------------------------------------------------------------------------------------------


def test_a_pipecat_call_exported_by_its_own_tracing_is_a_complete_session(
    server: LiveServer, org: Org
) -> None:
    conversation_id = f"pc-{uuid.uuid4().hex[:12]}"
    run = run_pipecat_conversation(
        exporter(server.url, org.ingest), conversation_id=conversation_id, service_name="weather-line"
    )
    seen = read_session(server.url, org)
    assert (seen["service"], seen["sid"]) == ("weather-line", conversation_id)
    assert seen["type"] == "pipecat_voice"
    assert seen["turns"] == interleaved(run.user_texts, run.agent_texts)
    assert seen["tools"] == [(call.name, dict(call.arguments), dict(call.result)) for call in run.tool_calls]
    assert seen["llm"] == ("openai", "gpt-4.1-mini")
    assert seen["duration"] is not None
    assert seen["duration"] > 0
    labels = {(category, label) for category, label, _ in seen["latency"]}
    assert {("llm", "llm_ttfb"), ("tts", "tts_ttfb"), ("llm", "user_bot_latency")} <= labels
    usage = [meta for category, label, meta in seen["latency"] if label == "llm_ttfb"]
    assert all(any(item.startswith("input_tokens=") for item in meta) for meta in usage)


def test_reexporting_a_pipecat_calls_spans_in_any_order_changes_nothing(
    server: LiveServer, org: Org, client: httpx.Client
) -> None:
    memory = InMemorySpanExporter()
    run_pipecat_conversation(memory, conversation_id=f"pc-{uuid.uuid4().hex[:12]}")
    spans = list(memory.get_finished_spans())
    children = [span for span in spans if span.parent is not None]
    export(server.url, org.ingest, children[: len(children) // 2])  # before any span names the session
    export(server.url, org.ingest, spans)
    first, listed = read_session(server.url, org), list_sessions(client, org.read)["items"]
    export(server.url, org.ingest, list(reversed(spans)))
    export(server.url, org.ingest, spans)
    assert read_session(server.url, org) == first
    assert list_sessions(client, org.read)["items"] == listed


# --- LiveKit Agents ------------------------------------------------------------------------------------


def test_a_livekit_session_exported_by_its_own_tracing_is_a_complete_session(
    server: LiveServer, org: Org
) -> None:
    room = f"room-{uuid.uuid4().hex[:10]}"
    memory = InMemorySpanExporter()
    run = run_livekit_session(memory, room_name=room, metadata={"session.id": room})  # as the README says
    export(server.url, org.ingest, memory.get_finished_spans())
    seen = read_session(server.url, org)
    assert seen["sid"] == room
    assert seen["type"] == "livekit_voice"
    assert seen["turns"] == interleaved(run.user_texts, run.agent_texts)
    assert [(name, args) for name, args, _ in seen["tools"]] == [
        (call.name, orjson.loads(call.arguments)) for call in run.tool_calls
    ]
    labels = {(category, label) for category, label, _ in seen["latency"]}
    assert {("llm", "llm_ttft"), ("tts", "tts_ttfb"), ("stt", "end_of_turn_delay")} <= labels


@pytest.mark.parametrize("version", ["1.6.10", "1.8.9"])
def test_livekit_spans_before_and_after_the_pii_rename_make_the_same_transcript(
    server: LiveServer, org: Org, client: httpx.Client, version: str
) -> None:
    body = (CAPTURES / f"livekit-{version}.json").read_bytes()
    headers = {"Authorization": f"Bearer {org.ingest}", "Content-Type": "application/json"}
    response = client.post("/otel/v1/traces", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert "partialSuccess" not in response.json()
    seen = read_session(server.url, org)
    assert seen["turns"] == interleaved(
        ["Hello there", "What's the weather in Paris?", "Thanks, bye"],
        ["Hi! How can I help you today?", "It is sunny and 21 degrees in Paris.", "You're welcome, goodbye!"],
    )
    assert [(name, args) for name, args, _ in seen["tools"]] == [("get_weather", {"city": "Paris"})]


def test_the_console_shows_a_traced_calls_llm_token_usage(server: LiveServer, org: Org) -> None:
    memory = InMemorySpanExporter()
    run_pipecat_conversation(memory, conversation_id=f"pc-{uuid.uuid4().hex[:12]}")
    spans = memory.get_finished_spans()
    export(server.url, org.ingest, spans)
    usage = [span.attributes or {} for span in spans if span.name == "llm"]
    tokens_in = sum(int(a.get("gen_ai.usage.input_tokens", 0)) for a in usage)  # type: ignore[arg-type]
    tokens_out = sum(int(a.get("gen_ai.usage.output_tokens", 0)) for a in usage)  # type: ignore[arg-type]
    assert tokens_in > 0
    with httpx.Client(base_url=server.url, timeout=60) as client:
        sid = list_sessions(client, org.read)["items"][0]["session_id"]
    with signed_in(server.url, org.read) as http:
        page = http.get(f"/sessions/{sid}").text
    assert f'<dd id="llm-tokens">{tokens_in:,} in · {tokens_out:,} out</dd>' in page


def test_a_livekit_text_mode_session_keeps_the_typed_user_turns(server: LiveServer, org: Org) -> None:
    memory = InMemorySpanExporter()
    replies = run_livekit_text_session(memory, session_id=f"chat-{uuid.uuid4().hex[:10]}")
    export(server.url, org.ingest, memory.get_finished_spans())
    seen = read_session(server.url, org)
    assert seen["turns"] == interleaved([turn.user for turn in DEFAULT_TURNS], replies)
