"""Demo data: several thousand realistic sessions, ingested through the same path producers use."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.demo import extras
from sessionary.demo import journey as journey_demo
from sessionary.demo.scenarios import LLMS, SCENARIOS, Scenario
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest import service as ingest
from sessionary.recordings.blobs import BlobStore
from sessionary.sessions.models import Session
from sessionary.tenancy import service as tenancy

DEMO_ORG = "demo"
CHANNELS = (("voice_sip_v1", "hedy"), ("voice_twilio_v1", "twilio"), ("web_chat_v1", "webchat"))
_EVENTS = TypeAdapter(list[EventIn])


def ensure_demo(
    database: Database, store: BlobStore, *, sessions: int, console: Console | None = None
) -> int:
    """Generate `sessions` demo sessions unless the demo organization has some; returns how many it has.

    A tenth of them (at least one) get labels by a reviewer, and as many recent calls a recording; every
    ended session is analyzed (auto-rating label and summary) before this returns."""
    with session_scope(database.writer) as db:
        org_id = tenancy.get_or_create_organization(db, name=DEMO_ORG).id
        count = db.scalar(select(func.count()).where(Session.organization_id == org_id)) or 0
    if count:
        return count
    rng = random.Random(20261121)
    now = utcnow().replace(microsecond=0)
    with Progress(console=console or Console(stderr=True), transient=True) as bar:
        task = bar.add_task("generating demo sessions", total=sessions)
        for start in range(0, sessions, 250):
            raw = [e for n in range(start, min(start + 250, sessions)) for e in session_events(rng, n, now)]
            with session_scope(database.writer) as db:
                ingest.ingest_events(db, organization_id=org_id, events=_EVENTS.validate_python(raw))
            bar.advance(task, min(250, sessions - start))
        extra = max(1, sessions // 10)
        bar.add_task("recordings, labels and summaries", total=None)
        extras.add_extras(database, store, organization_id=org_id, recordings_count=extra, labels_count=extra)
    journey_demo.generate(database, organization_id=org_id, rng=rng, now=now)
    return sessions


def session_events(rng: random.Random, number: int, now: datetime) -> list[dict[str, Any]]:
    """The native events of demo session `number`, starting some time in the last 30 days."""
    scenario = rng.choice(SCENARIOS)
    channel_type, service = rng.choice(CHANNELS)
    start = now - timedelta(seconds=rng.randint(600, 30 * 86400))
    sid = f"demo-{number:06d}"
    base = {"channel_manager_service": service, "channel_manager_sid": sid}
    voice = channel_type.startswith("voice")
    outbound = voice and rng.random() < 0.25
    provider, model, version, temperature, seed = rng.choice(LLMS)
    caller = (
        f"+1555{rng.randint(1000000, 9999999)}" if voice else f"visitor{rng.randint(1, 9999)}@example.com"
    )
    started = {
        "channel_manager_type": channel_type,
        "conversation_id": f"conv-{number // 2:06d}",
        "agent_id": scenario.agent_id,
        "agent_name": scenario.agent_name,
        "agent_type": "ai_agent",
        "agent_timezone": "America/Chicago",
        "prompt_id": scenario.prompt_id,
        "prompt_name": scenario.prompt_name,
        "prompt_version_number": rng.randint(1, 6),
        "source": caller,
        "target": f"{scenario.agent_name.lower().replace(' ', '-')}-line",
        "is_outbound": outbound,
        "is_test": rng.random() < 0.05,
        "is_legacy": False,
        "llm_provider": provider,
        "llm_model": model,
        "llm_version": version,
        "llm_temperature": temperature,
        "llm_seed": seed,
    }
    events = [_event(f"{sid}-start", "session.started", start, base, started)]
    clock = start
    for kind, ts, data in _turns(rng, scenario, start, caller=caller, voice=voice):
        events.append(_event(f"{sid}-{len(events)}", kind, ts, base, data))
        clock = max(clock, ts)
    end = clock + timedelta(seconds=rng.uniform(1, 4))
    # A transfer out of a voice call sometimes ends on the specialists' voicemail.
    transfers = any(n.voice_only for n in scenario.notable.values())
    voicemail = voice and transfers and rng.random() < 0.2
    ended = {"user_terminated": voice and rng.random() < 0.7, "transfer_voicemail_detected": voicemail}
    events.append(_event(f"{sid}-end", "session.ended", end, base, ended))
    return events


def _turns(
    rng: random.Random, scenario: Scenario, start: datetime, *, caller: str, voice: bool
) -> Iterator[tuple[str, datetime, dict[str, Any]]]:
    clock = start + timedelta(seconds=rng.uniform(0.5, 2))
    for index, (source, text) in enumerate(scenario.turns):
        if source == "agent":
            yield from _agent_latency(rng, clock)
            clock += timedelta(seconds=rng.uniform(0.6, 1.8))
        yield "transcript", clock, {"source": source, "text": text, "lang": "en-US"}
        clock += timedelta(seconds=len(text) / 14 + rng.uniform(0.3, 2.5))
        tool = scenario.tools.get(index)
        if tool is not None:
            millis = rng.uniform(80, 900) if tool.error is None else 5000.0
            yield (
                "tool_call",
                clock,
                {
                    "tool_call_id": f"call-{index}",
                    "tool_name": tool.name,
                    "tool_request": tool.request,
                    "tool_result": tool.result,
                    "tool_error": tool.error,
                    "duration_ms": round(millis, 1),
                },
            )
            clock += timedelta(milliseconds=millis)
        notable = scenario.notable.get(index)
        if notable is not None and (voice or not notable.voice_only):
            yield (
                "custom",
                clock,
                {
                    "type": notable.type,
                    "source": notable.source,
                    "source_id": scenario.agent_id,
                    "category": notable.category,
                    "user_id": caller,
                    "description": notable.description,
                    "attributes": notable.attributes,
                },
            )


def _agent_latency(rng: random.Random, at: datetime) -> Iterator[tuple[str, datetime, dict[str, Any]]]:
    for category, label, low, high, meta in (
        ("stt", "stt_processing", 80, 400, ["Deepgram", "nova-3"]),
        ("llm", "llm_first_token", 250, 1600, ["Gpt-4.1", "OpenAI"]),
        ("tts", "tts_first_byte", 90, 500, ["ElevenLabs", "flash-v2"]),
    ):
        value = round(rng.uniform(low, high), 1)
        data = {
            "category": category,
            "label": label,
            "metadata": meta,
            "value": value,
            "unit": "milliseconds",
        }
        yield "latency", at, data


def _event(
    event_id: str, kind: str, ts: datetime, base: dict[str, str], data: dict[str, Any]
) -> dict[str, Any]:
    return {"event_id": event_id, "type": kind, "timestamp": ts.isoformat(), **base, "data": data}
