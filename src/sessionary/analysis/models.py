"""What the analysis keeps per ended session: its work-queue state and metrics, and its summary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, JSONType, UTCDateTime


class SessionAnalysis(Base):
    """One row per ended session: when it is due for (re-)analysis, and what the last analysis measured."""

    __tablename__ = "session_analysis"
    __table_args__ = (
        Index("ix_session_analysis_due_at", "due_at"),
        Index("ix_session_analysis_organization_id_analyzed_at", "organization_id", "analyzed_at"),
    )

    session_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("session.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    # Due when set and past; NULL when nothing is pending. A claim pushes it ahead by the lease.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped by every mark: an analysis only clears the mark it read (see analysis/service.py).
    generation: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    analyzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Mean latency (ms) per category (llm, stt, tts) of the session: the organization's norm is their median.
    latency_means: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)


class SessionSummary(Base):
    """The session's latest summary and rating, and which summarizer wrote it."""

    __tablename__ = "session_summary"

    session_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("session.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    summarizer: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
