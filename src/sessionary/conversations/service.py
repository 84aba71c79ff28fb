"""Conversations: created the first time a session names its conversation_id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session as DBSession

from sessionary.conversations.models import Conversation
from sessionary.db import insert_for


def ensure_conversations(
    db: DBSession, *, organization_id: int, sessions: Iterable[tuple[str | None, datetime]]
) -> None:
    """Create the conversations named by these (conversation_id, session timestamp) pairs, if new."""
    first: dict[str, datetime] = {}
    for conversation_id, timestamp in sessions:
        if conversation_id is not None and (
            conversation_id not in first or timestamp < first[conversation_id]
        ):
            first[conversation_id] = timestamp
    if not first:
        return
    rows = [
        {"organization_id": organization_id, "conversation_id": cid, "timestamp": ts}
        for cid, ts in sorted(first.items())
    ]
    table = Conversation.__table__
    db.execute(
        insert_for(db, table).on_conflict_do_nothing(index_elements=["organization_id", "conversation_id"]),
        rows,
    )
