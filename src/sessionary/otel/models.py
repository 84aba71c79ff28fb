"""Which session each trace belongs to, and the spans waiting to learn it.

A trace is one session. Its key is named by some of its spans only (Pipecat's `conversation` and `turn`
spans carry `conversation.id`, its `stt`/`llm`/`tts` spans do not), and spans arrive in any order and in
any number of requests. So the first span that names a key (or the trace's root, which settles it) fixes
the trace's session here; spans that arrive before any of them wait in `otel_pending_span`, as the native
events they map to, until it is known (or until SESSIONARY_OTEL_PENDING_SECONDS pass: then the trace id is
the key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, JSONType, UTCDateTime

_S = 200


class OtelTrace(Base):
    """A trace seen by this organization; its session key once known (both columns null before)."""

    __tablename__ = "otel_trace"
    # A deleted session's traces are found by its key (lifecycle/deletion.py).
    __table_args__ = (
        Index(
            "ix_otel_trace_session_key", "organization_id", "channel_manager_service", "channel_manager_sid"
        ),
    )

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # 32 lowercase hex digits
    channel_manager_service: Mapped[str | None] = mapped_column(String(_S))
    channel_manager_sid: Mapped[str | None] = mapped_column(String(_S))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OtelPendingSpan(Base):
    """A span's native events (without their session key) waiting for their trace's key."""

    __tablename__ = "otel_pending_span"
    __table_args__ = (Index("ix_otel_pending_span_organization_id_trace_id", "organization_id", "trace_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    # The service (resource service.name) of the span: the key's service if the trace id becomes the key.
    service: Mapped[str] = mapped_column(String(_S))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
