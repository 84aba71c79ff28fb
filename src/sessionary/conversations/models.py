"""A conversation groups the sessions that share a conversation_id within an organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime

_S = 200
# Searched by name (few distinct values per organization): indexed for the loose index scan, as on sessions.
NAME_COLUMNS = ("agent_name", "agent_id", "prompt_name", "prompt_id")


class Conversation(Base):
    """Its fields are derived from its sessions (see conversations/service.py), kept current at ingest."""

    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("organization_id", "conversation_id"),
        Index("ix_conversation_organization_id_timestamp", "organization_id", "timestamp", "id"),
        *(
            Index(f"ix_conversation_org_{name}", "organization_id", name, "timestamp", "id")
            for name in NAME_COLUMNS
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(_S))
    # The start of its earliest session.
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    agent_id: Mapped[str | None] = mapped_column(String(_S))
    agent_name: Mapped[str | None] = mapped_column(String(_S))
    agent_type: Mapped[str | None] = mapped_column(String(_S))
    prompt_id: Mapped[str | None] = mapped_column(String(_S))
    prompt_name: Mapped[str | None] = mapped_column(String(_S))
    prompt_version: Mapped[str | None] = mapped_column(String(_S))
    llm_provider: Mapped[str | None] = mapped_column(String(_S))
    llm_model: Mapped[str | None] = mapped_column(String(_S))
    llm_version: Mapped[str | None] = mapped_column(String(_S))
    llm_temperature: Mapped[float | None] = mapped_column(Float)
    llm_seed: Mapped[int | None] = mapped_column(BigInteger)
    is_legacy: Mapped[bool | None] = mapped_column(Boolean)
