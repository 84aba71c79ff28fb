"""Migration 0006 on a database with data: existing conversations get their derived fields, and the tool calls
and voicemail transfers already stored become notable events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from sessionary import migrate
from sessionary.db import open_database
from sessionary.db_types import JSONType, UTCDateTime

T0 = datetime(2024, 6, 19, 10, 0, tzinfo=UTC)


def _table(
    name: str, *columns: str, stamps: tuple[str, ...] = (), json: tuple[str, ...] = ()
) -> sa.TableClause:
    return sa.table(
        name,
        *(sa.column(c) for c in columns),
        *(sa.column(c, UTCDateTime()) for c in stamps),
        *(sa.column(c, JSONType) for c in json),
    )


ORGANIZATION = _table("organization", "id", "name", stamps=("created_at",))
SESSION = _table(
    "session",
    "id",
    "organization_id",
    "session_type",
    "conversation_id",
    "channel_manager_service",
    "channel_manager_sid",
    "agent_name",
    "prompt_name",
    "event_count",
    stamps=("timestamp", "first_event_at", "last_event_at", "updated_at"),
    json=("field_versions",),
)
CONVERSATION = _table("conversation", "organization_id", "conversation_id", stamps=("timestamp",))
EVENT = _table(
    "event",
    "organization_id",
    "event_id",
    "session_id",
    "type",
    stamps=("timestamp", "received_at"),
    json=("data",),
)


def _session(number: int, start: datetime, agent: str | None, prompt: str | None) -> dict[str, Any]:
    return {
        "id": number,
        "organization_id": 1,
        "session_type": "voice",
        "conversation_id": "conv-1",
        "channel_manager_service": "hedy",
        "channel_manager_sid": f"s{number}",
        "agent_name": agent,
        "prompt_name": prompt,
        "event_count": 1,
        "timestamp": start,
        "first_event_at": start,
        "last_event_at": start,
        "updated_at": start,
        "field_versions": {},
    }


def _event(event_id: str, session_id: int, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "organization_id": 1,
        "event_id": event_id,
        "session_id": session_id,
        "type": type_,
        "timestamp": T0,
        "received_at": T0,
        "data": data,
    }


def test_upgrade_backfills_conversation_fields_and_notable_events(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, "0002")
    database = open_database(empty_database_url, pool_size=1)
    try:
        with database.engine.begin() as conn:
            conn.execute(sa.insert(ORGANIZATION), [{"id": 1, "name": "old", "created_at": T0}])
            conn.execute(
                sa.insert(SESSION),
                [
                    _session(1, T0, "Early agent", "Only prompt"),
                    _session(2, T0.replace(hour=11), "Late agent", None),
                ],
            )
            # As the old ingest made it: the timestamp of the first session to arrive (the later one here).
            conn.execute(
                sa.insert(CONVERSATION),
                [{"organization_id": 1, "conversation_id": "conv-1", "timestamp": T0.replace(hour=11)}],
            )
            conn.execute(
                sa.insert(EVENT),
                [
                    _event(
                        "e1", 1, "tool_call", {"tool_call_id": "c1", "tool_name": "lookup", "duration_ms": 5}
                    ),
                    _event("e2", 2, "session.ended", {"transfer_voicemail_detected": True}),
                    _event("e3", 2, "session.ended", {"user_terminated": True}),
                    _event("e4", 2, "transcript", {"source": "user", "text": "hi"}),
                ],
            )
        migrate.upgrade(empty_database_url)
        with database.engine.connect() as conn:
            conversation = conn.execute(sa.text("SELECT agent_name, prompt_name FROM conversation")).one()
            stamp = conn.execute(
                sa.select(sa.column("timestamp", UTCDateTime())).select_from(sa.table("conversation"))
            ).scalar_one()
            notable = conn.execute(
                sa.text("SELECT event_id, type, source_id FROM notable_event ORDER BY event_id")
            ).all()
    finally:
        database.dispose()
    assert tuple(conversation) == ("Late agent", "Only prompt")
    assert stamp == T0
    assert [tuple(row) for row in notable] == [
        ("e1", "tool-call", "lookup"),
        ("e2", "voicemail-transfer", None),
    ]
