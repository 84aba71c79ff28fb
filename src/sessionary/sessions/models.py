"""The session: one call, chat or web/app visit, derived from its events (see ingest/projection.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, JSONType, UTCDateTime

_S = 200  # length of short string columns
# channel_manager_service of every web/app (journey) session; native ingest refuses it.
JOURNEY_SERVICE = "journey"
# Columns searched by name (see sessions.service.NAME_PROPERTIES): indexed for the loose index scan.
_NAME_COLUMNS = ("agent_name", "agent_id", "prompt_name", "prompt_id", "channel_manager_type")


# Columns that many sessions leave empty (web and app visits have no agent, prompt or conversation):
# their indexes hold only the rows that have a value, so writing such a session skips them. A query
# `name = ?` implies `name IS NOT NULL`, so both databases still use them (migration 0011).
_PARTIAL = ("agent_name", "agent_id", "prompt_name", "prompt_id", "conversation_id")


def _set_only(name: str) -> dict[str, Any]:
    if name not in _PARTIAL:
        return {}
    where = text(f"{name} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


class Session(Base):
    __tablename__ = "session"
    __table_args__ = (
        UniqueConstraint("organization_id", "channel_manager_service", "channel_manager_sid"),
        # `id` last: the list's tie-breaker, so newest-first pages walk an index on PostgreSQL too.
        Index("ix_session_organization_id_timestamp", "organization_id", "timestamp", "id"),
        *(
            Index(f"ix_session_org_{name}", "organization_id", name, "timestamp", "id", **_set_only(name))
            for name in _NAME_COLUMNS
        ),
        # Also walked newest-first per conversation, to derive the conversation's fields (conversations/).
        Index(
            "ix_session_organization_id_conversation_id",
            "organization_id",
            "conversation_id",
            "timestamp",
            "id",
            **_set_only("conversation_id"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    # voice | chat | web | app | other: the family of the session, derived from channel_manager_type.
    session_type: Mapped[str] = mapped_column(String(16), default="other")

    # The Syllable Session fields (session_id is `id`).
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    conversation_id: Mapped[str | None] = mapped_column(String(_S))
    channel_manager_service: Mapped[str] = mapped_column(String(_S))
    channel_manager_type: Mapped[str | None] = mapped_column(String(_S))
    channel_manager_sid: Mapped[str] = mapped_column(String(_S))
    agent_id: Mapped[str | None] = mapped_column(String(_S))
    agent_name: Mapped[str | None] = mapped_column(String(_S))
    agent_type: Mapped[str | None] = mapped_column(String(_S))
    agent_timezone: Mapped[str | None] = mapped_column(String(64))
    prompt_id: Mapped[str | None] = mapped_column(String(_S))
    prompt_name: Mapped[str | None] = mapped_column(String(_S))
    prompt_version: Mapped[str | None] = mapped_column(String(_S))
    prompt_version_number: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    session_label_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(_S))
    target: Mapped[str | None] = mapped_column(String(_S))
    is_legacy: Mapped[bool | None] = mapped_column(Boolean)
    is_test: Mapped[bool | None] = mapped_column(Boolean)
    is_outbound: Mapped[bool | None] = mapped_column(Boolean)
    user_terminated: Mapped[bool | None] = mapped_column(Boolean)
    transfer_voicemail_detected: Mapped[bool | None] = mapped_column(Boolean)
    override_timestamp: Mapped[str | None] = mapped_column(String(64))
    # The LLM behind the session (not Session fields of the Syllable API: they feed its conversation).
    llm_provider: Mapped[str | None] = mapped_column(String(_S))
    llm_model: Mapped[str | None] = mapped_column(String(_S))
    llm_version: Mapped[str | None] = mapped_column(String(_S))
    llm_temperature: Mapped[float | None] = mapped_column(Float)
    llm_seed: Mapped[int | None] = mapped_column(BigInteger)

    # Derivation state, so that events merge the same whatever order they arrive in.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_duration: Mapped[float | None] = mapped_column(Float)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    # field -> "<timestamp iso>|<event_id>" of the event whose value the field holds (latest wins).
    field_versions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The columns session_count keeps counts by, besides the organization and the UTC day of the timestamp.
COUNTED_NAMES = _NAME_COLUMNS


class SessionCount(Base):
    """How many sessions an organization has per UTC day of `timestamp` and per value of the name columns,
    kept by database triggers on `session` (migration 0016), so that every writer keeps it exact in its own
    transaction. The count of a key is the SUM of `n` over its rows: SQLite keeps one row per key (one writer
    at a time upserts it); PostgreSQL appends signed delta rows (`folded` false), which sessions.counts folds
    into one row per key, so that concurrent writers never wait on a shared counter row."""

    __tablename__ = "session_count"
    __table_args__ = (
        Index("ix_session_count_key", "organization_id", "day", *_NAME_COLUMNS),
        Index(
            "ix_session_count_unfolded",
            "organization_id",
            "day",
            sqlite_where=text("NOT folded"),
            postgresql_where=text("NOT folded"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # No foreign key: the triggers write here while an organization's sessions are deleted with it.
    organization_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)
    agent_name: Mapped[str | None] = mapped_column(String(_S))
    agent_id: Mapped[str | None] = mapped_column(String(_S))
    prompt_name: Mapped[str | None] = mapped_column(String(_S))
    prompt_id: Mapped[str | None] = mapped_column(String(_S))
    channel_manager_type: Mapped[str | None] = mapped_column(String(_S))
    n: Mapped[int] = mapped_column(BigInteger)
    folded: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
