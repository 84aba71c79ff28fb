"""Quality labels on sessions: a human's or sessionary's own rating, with the issues found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, JSONType, UTCDateTime


class SessionLabel(Base):
    __tablename__ = "session_label"
    __table_args__ = (
        Index("ix_session_label_organization_id_timestamp", "organization_id", "timestamp"),
        Index("ix_session_label_session_id_timestamp", "session_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    type: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(8))
    user_email: Mapped[str] = mapped_column(String(320))
    comments: Mapped[str | None] = mapped_column(Text)
    issue_categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
