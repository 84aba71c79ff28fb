"""A session's recordings (the bytes live in the blob store), and the server's signing secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime


class Recording(Base):
    __tablename__ = "recording"
    # The same bytes uploaded twice for a session are one recording.
    __table_args__ = (UniqueConstraint("session_id", "sha256"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    blob_key: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServerSecret(Base):
    """Secrets every server process on this database shares (e.g. the key signing recording URLs)."""

    __tablename__ = "server_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
