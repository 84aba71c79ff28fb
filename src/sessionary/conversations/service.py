"""Conversations: created the first time a session names its conversation_id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session as DBSession

from sessionary.conversations.models import Conversation
from sessionary.db import insert_for
from sessionary.sessions.models import Session


def ensure_for_sessions(db: DBSession, *, organization_id: int, sessions: Sequence[Session]) -> None:
    """Create the conversations these sessions belong to, if they do not exist yet."""
    first: dict[str, Session] = {}
    for session in sessions:
        cid = session.conversation_id
        if cid is not None and (cid not in first or session.timestamp < first[cid].timestamp):
            first[cid] = session
    if not first:
        return
    rows = [
        {"organization_id": organization_id, "conversation_id": cid, "timestamp": s.timestamp}
        for cid, s in sorted(first.items())
    ]
    table = Conversation.__table__
    db.execute(
        insert_for(db, table).on_conflict_do_nothing(index_elements=["organization_id", "conversation_id"]),
        rows,
    )
