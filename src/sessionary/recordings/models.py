"""A session's recordings (the bytes live in the blob store), and the server's signing secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime


class Recording(Base):
    __tablename__ = "recording"
    # The same bytes uploaded twice for a session are one recording.
    # The orphaned-blob sweep asks which of a page of blob keys still have a recording.
    __table_args__ = (UniqueConstraint("session_id", "sha256"), Index("ix_recording_blob_key", "blob_key"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    blob_key: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordingFetch(Base):
    """A recording a voice platform reported by URL, to be fetched into the blob store by a worker.

    Leased like the analysis queue: a claim pushes `due_at` ahead, so a process that dies mid-fetch leaves
    the job to another (or to itself after a restart); a failure retries with backoff until `attempts` runs
    out. `due_at` is NULL once the job is done (`recording_id` set) or given up (`last_error` says why).
    """

    __tablename__ = "recording_fetch"
    # One job per recording the provider names (its id, or the URL's kind), however often it is reported.
    __table_args__ = (
        UniqueConstraint("session_id", "source_key"),
        Index("ix_recording_fetch_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    # HTTP basic auth for the provider's host (Twilio: AccountSid and the integration's auth token).
    auth_user: Mapped[str | None] = mapped_column(String(200))
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integration.id", ondelete="SET NULL"))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    recording_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BlobDeletion(Base):
    """A blob whose recording was deleted: deleted from the store right after the commit that deleted the
    row, and retried by the purge worker (with backoff) until the store confirms it is gone."""

    __tablename__ = "blob_deletion"

    blob_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServerSecret(Base):
    """Secrets every server process on this database shares (e.g. the key signing recording URLs)."""

    __tablename__ = "server_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
