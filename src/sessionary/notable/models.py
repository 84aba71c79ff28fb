"""Notable events: the occurrences of a session worth listing (tool calls, transfers, errors, custom events).

Each comes from one stored ingest event (same event_id) and is written in the ingest transaction; see
events/mapping.py for which events become notable and how.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, JSONType, UTCDateTime
from sessionary.sessions.models import Session

_S = 200


class NotableEvent(Base):
    __tablename__ = "notable_event"
    __table_args__ = (
        UniqueConstraint("organization_id", "event_id"),
        Index("ix_notable_event_organization_id_timestamp", "organization_id", "timestamp", "id"),
        Index("ix_notable_event_session_id_timestamp", "session_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    # The ingest event it comes from: a re-sent event never makes a second notable event.
    event_id: Mapped[str] = mapped_column(String(_S))
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str | None] = mapped_column(String(_S))
    source_id: Mapped[str | None] = mapped_column(String(_S))
    category: Mapped[str | None] = mapped_column(String(_S))
    type: Mapped[str | None] = mapped_column(String(_S))
    user_id: Mapped[str | None] = mapped_column(String(_S))
    description: Mapped[str | None] = mapped_column(String(2000))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The session's conversation_id as it is now (a session may name its conversation after the event).
    conversation_id: Mapped[str | None] = column_property(
        select(Session.conversation_id)
        .where(Session.id == session_id)
        .correlate_except(Session)
        .scalar_subquery()
    )
