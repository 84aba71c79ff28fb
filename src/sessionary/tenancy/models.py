"""Organizations own every row; API keys (stored hashed) belong to one organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime, utcnow


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    # The first characters of the key, kept in clear so a key can be recognised in a listing.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated scopes: any of "ingest", "read", "admin".
    scopes: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A key past its expiry authenticates nothing (NULL: never expires).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When the key last authenticated a request, to the minute (tenancy.service.touch).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AuthFailureCounter(Base):
    """Failed authentications per client address and window, shared by every server process (the
    `limits` library's fixed window, stored here: tenancy/ratelimit.py)."""

    __tablename__ = "auth_failure_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
