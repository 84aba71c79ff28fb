"""What a database holds for one organization, read directly (not through the API), in comparable form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from sessionary.conversations.models import Conversation
from sessionary.db import open_database
from sessionary.eventlog.models import Event
from sessionary.sessions.models import Session
from sessionary.tenancy.models import Organization

SessionKey = tuple[str, str]
# Columns that identify a row or record when it was written, rather than what the events say.
# Not compared: ids, bookkeeping, and the label the analysis worker sets some time after a session ends.
_SESSION_IDENTITY = {"id", "organization_id", "updated_at", "session_label_id"}


@dataclass
class Stored:
    """An organization's sessions (every derived column), events and conversations."""

    sessions: dict[SessionKey, dict[str, Any]]
    events: dict[str, dict[str, Any]]
    conversations: list[str]
    # session key -> number of rows in the event table that belong to it.
    events_per_session: dict[SessionKey, int]

    def event_ids(self) -> set[str]:
        return set(self.events)


def read_stored(database_url: str, org_name: str) -> Stored:
    """Everything stored for the organization called `org_name`."""
    database = open_database(database_url, pool_size=1)
    try:
        with database.reader() as db:
            org_id = db.scalar(select(Organization.id).where(Organization.name == org_name))
            assert org_id is not None, f"no organization {org_name}"
            columns = [c.key for c in Session.__table__.columns if c.key not in _SESSION_IDENTITY]
            sessions: dict[SessionKey, dict[str, Any]] = {}
            keys_by_id: dict[int, SessionKey] = {}
            for row in db.scalars(select(Session).where(Session.organization_id == org_id)):
                key = (row.channel_manager_service, row.channel_manager_sid)
                assert key not in sessions, f"two sessions for {key}"
                sessions[key] = {name: getattr(row, name) for name in columns}
                keys_by_id[row.id] = key
            events = {
                row.event_id: {
                    "type": row.type,
                    "timestamp": row.timestamp,
                    "data": row.data,
                    "session": keys_by_id[row.session_id],
                }
                for row in db.scalars(select(Event).where(Event.organization_id == org_id))
            }
            counts = db.execute(
                select(Event.session_id, func.count())
                .where(Event.organization_id == org_id)
                .group_by(Event.session_id)
            )
            per_session = {keys_by_id[session_id]: count for session_id, count in counts}
            conversations = sorted(
                db.scalars(select(Conversation.conversation_id).where(Conversation.organization_id == org_id))
            )
    finally:
        database.dispose()
    return Stored(
        sessions=sessions, events=events, conversations=conversations, events_per_session=per_session
    )
