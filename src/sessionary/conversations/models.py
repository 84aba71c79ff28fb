"""A conversation groups the sessions that share a conversation_id within an organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("organization_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(200))
    # When the conversation was first seen: the start of the first of its sessions to arrive.
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
