"""Metrics rollups: per organization, UTC day and segment, the sums every overview figure is made of.

A segment is one combination of the session attributes the overview filters on exactly (channel type,
session type, agent, prompt, direction, test); segment 0 is every session. Each rolled-up session keeps
a snapshot of what it was counted as, so that a change (a later event, a new label, another agent) moves
exactly its own share (see rollup.py), and a deleted session's share can be taken out (see catchup.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime
from sessionary.sessions.models import Session
from sessionary.tenancy.models import Organization  # noqa: F401  (the table the foreign keys name)

# Sessions changed since a point in time, for the catch-up (catchup.catch_up): ingest sets updated_at.
Index("ix_session_organization_id_updated_at", Session.organization_id, Session.updated_at)


class MetricsSegment(Base):
    __tablename__ = "metrics_segment"
    __table_args__ = (UniqueConstraint("organization_id", "signature"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    signature: Mapped[str] = mapped_column(String(1200))  # JSON of the level and the six values below
    # "full": every value below is the session's; else the one column named is, the others are not used.
    level: Mapped[str] = mapped_column(String(32))
    channel_manager_type: Mapped[str | None] = mapped_column(String(200))
    session_type: Mapped[str | None] = mapped_column(String(16))
    agent_name: Mapped[str | None] = mapped_column(String(200))
    prompt_name: Mapped[str | None] = mapped_column(String(200))
    is_outbound: Mapped[bool | None] = mapped_column(Boolean)
    is_test: Mapped[bool | None] = mapped_column(Boolean)


class MetricsRollup(Base):
    __tablename__ = "metrics_rollup"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    # Segment before day: an overview reads one segment (or a few) over a range of days.
    segment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # 0: every session
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # sessions | duration | label | issue | latency | tool | journey | referrer_medium | campaign
    # (see contributions.py)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    errors: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[float] = mapped_column(Float)


class MetricsSessionState(Base):
    """What one session is counted as in the rollups; it outlives the session, so that the catch-up can
    take a deleted session's share out."""

    __tablename__ = "metrics_session_state"
    # The foreign key's ON DELETE SET NULL looks rows up by live_session_id; the catch-up finds an
    # organization's deleted sessions by (NULL, organization_id).
    __table_args__ = (
        Index("ix_metrics_session_state_live_session_id", "live_session_id", "organization_id"),
    )

    # No foreign key: the snapshot stays when the session goes (live_session_id records that).
    session_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    # session_id while the session exists; the database sets it NULL when the session is deleted.
    live_session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id", ondelete="SET NULL"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    segment_id: Mapped[int] = mapped_column(BigInteger)
    duration: Mapped[float | None] = mapped_column(Float)
    label_id: Mapped[int | None] = mapped_column(BigInteger)
    max_event_id: Mapped[int] = mapped_column(BigInteger)
    session_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A journey (web/app) session's journey_session figures; pageview_count is NULL for other sessions.
    pageview_count: Mapped[int | None] = mapped_column(Integer)
    referrer_medium: Mapped[str | None] = mapped_column(String(200))
    campaign_name: Mapped[str | None] = mapped_column(String(200))


class MetricsOrgState(Base):
    """How far the catch-up got: sessions changed (and labels made) before this were rolled up."""

    __tablename__ = "metrics_org_state"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    rolled_through: Mapped[datetime] = mapped_column(UTCDateTime())
