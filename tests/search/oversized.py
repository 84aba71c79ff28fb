"""Turns longer than the ingest allows, stored the way turns stored before the limit sit in a database."""

from __future__ import annotations

from datetime import UTC, datetime

from sessionary.db import Database, session_scope
from sessionary.eventlog.schemas import TranscriptData, TranscriptEvent
from sessionary.ingest import service as ingest

REFILL = "please refill my pills "


def store_unchecked_turn(database: Database, organization_id: int, sid: str, text: str) -> None:
    """A session `sid` with one user turn of `text`, stored by the ingest without validating it."""
    turn = TranscriptEvent.model_construct(
        event_id=f"{sid}-t1",
        type="transcript",
        timestamp=datetime(2024, 6, 19, 10, tzinfo=UTC),
        channel_manager_service="hedy",
        channel_manager_sid=sid,
        data=TranscriptData.model_construct(source="user", text=text),
    )
    with session_scope(database.writer) as db:
        ingest.ingest_events(db, organization_id=organization_id, events=[turn])
