"""Each organization's retention periods, and how far the purge worker got with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime


class RetentionPolicy(Base):
    """How long an organization keeps its data (no row, or NULL periods: forever)."""

    __tablename__ = "retention_policy"

    organization_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # Whole sessions (events, labels, recordings, everything made from them) older than this are deleted.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # Only the content (transcript text, tool payloads, summaries, recordings) of sessions older than this
    # goes; the session's facts and figures stay. At most retention_days.
    content_retention_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PurgeState(Base):
    """The purge worker's progress and lease for one organization (lifecycle/purge.py)."""

    __tablename__ = "purge_state"

    organization_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The content of every session that started before this has been purged.
    content_purged_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Sessions changed after this (late events into already purged sessions) are looked at again.
    content_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A worker holding the organization's purge until then; another takes it over once it has passed.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
