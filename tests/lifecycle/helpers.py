"""Builders for the retention tests: sessions ingested in process at chosen times, a purger over a store,
and the rows a session keeps, read straight from the tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select

from sessionary.analysis import service as analysis
from sessionary.config import Settings
from sessionary.db import Database, session_scope
from sessionary.eventlog.models import Event
from sessionary.eventlog.schemas import EventIn
from sessionary.ingest.service import ingest_events
from sessionary.lifecycle import policy
from sessionary.lifecycle.purge import Periods, Purger
from sessionary.lifecycle.runner import Runner
from sessionary.recordings import service as recordings
from sessionary.recordings.blobs import BlobStore
from sessionary.sessions.models import Session
from tests.helpers import event

BASE = datetime(2026, 1, 1, tzinfo=UTC)  # the sessions' start times are around this
_EVENTS = TypeAdapter(list[EventIn])


def at(offset: timedelta) -> str:
    return (BASE + offset).isoformat().replace("+00:00", "Z")


def call(sid: str, start: timedelta, *, secret: str = "kumquat") -> list[dict[str, Any]]:
    """A call with content: transcripts naming `secret`, a failed tool call, a provider report, latency."""
    ts = [at(start + timedelta(seconds=s)) for s in range(8)]
    report = {
        "type": "provider.report",
        "source": "vapi",
        "description": f"the caller asked about {secret}",
        "attributes": {"summary": f"about {secret}", "cost": 0.12, "success": True},
    }
    tool = {
        "tool_call_id": "t1",
        "tool_name": "lookup",
        "tool_request": {"q": secret},
        "tool_result": {"a": secret},
        "tool_error": {"message": f"no {secret}"},
        "duration_ms": 40,
    }
    transfer = {
        "tool_call_id": "t2",
        "tool_name": "transfer_call",
        "tool_request": {"destination": "+15550001"},
    }
    return [
        event(f"{sid}-s", "session.started", sid=sid, timestamp=ts[0], data={"agent_name": "Ava"}),
        event(f"{sid}-u", sid=sid, timestamp=ts[1], data={"source": "user", "text": f"I want {secret} now"}),
        event(f"{sid}-a", sid=sid, timestamp=ts[2], data={"source": "agent", "text": f"Here is {secret}"}),
        event(f"{sid}-t", "tool_call", sid=sid, timestamp=ts[3], data=tool),
        event(f"{sid}-x", "tool_call", sid=sid, timestamp=ts[4], data=transfer),
        event(f"{sid}-l", "latency", sid=sid, timestamp=ts[5]),
        event(f"{sid}-r", "custom", sid=sid, timestamp=ts[6], data=report),
        event(f"{sid}-e", "session.ended", sid=sid, timestamp=ts[7], data={"duration": 7.0}),
    ]


def ingest(database: Database, organization_id: int, events: list[dict[str, Any]]) -> None:
    with session_scope(database.writer) as db:
        ingest_events(db, organization_id=organization_id, events=_EVENTS.validate_python(events))


def session_id(database: Database, organization_id: int, sid: str) -> int | None:
    with session_scope(database.reader) as db:
        return db.scalar(
            select(Session.id).where(
                Session.organization_id == organization_id, Session.channel_manager_sid == sid
            )
        )


def sids(database: Database, organization_id: int) -> set[str]:
    with session_scope(database.reader) as db:
        stmt = select(Session.channel_manager_sid).where(Session.organization_id == organization_id)
        return set(db.scalars(stmt))


def event_count(database: Database, organization_id: int) -> int:
    with session_scope(database.reader) as db:
        return db.scalar(select(func.count()).where(Event.organization_id == organization_id)) or 0


def attach_recording(database: Database, store: BlobStore, organization_id: int, sid: str) -> str:
    """Attach a small recording to the session; returns its blob key."""
    with session_scope(database.writer) as db:
        attached = recordings.store_recording(
            db,
            store,
            organization_id=organization_id,
            channel_manager_service="hedy",
            channel_manager_sid=sid,
            chunks=[b"RIFF" + sid.encode() * 100],
            filename="call.wav",
            content_type="audio/wav",
        )
    return attached.recording.blob_key


def analyze(database: Database, organization_id: int, blob_dir: Path) -> int:
    """Rate and summarize the organization's ended sessions now (as the analysis worker would)."""
    settings = Settings(database_url="sqlite://", blob_dir=blob_dir)
    analyzer = replace(analysis.Analyzer.from_settings(settings), delay=timedelta(0))
    try:
        return analysis.process_due(database, analyzer=analyzer, organization_id=organization_id)
    finally:
        analyzer.close()


def set_retention(
    database: Database, organization_id: int, days: int | None, content_days: int | None
) -> None:
    from sessionary.audit.service import Actor

    with session_scope(database.writer) as db:
        policy.set_policy(
            db, actor=Actor.cli(organization_id), retention_days=days, content_retention_days=content_days
        )


def purger(database: Database, store: BlobStore, *, batch: int = 500, **periods: Any) -> Purger:
    """A purger with no rest between passes (tests call run_once with a moved clock)."""
    return Purger(Runner(database, store, batch=batch), Periods(**{"rest_seconds": 0, **periods}))
