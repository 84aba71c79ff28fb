"""Console sign-ins, kept server-side: the cookie carries a random id, the table its hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import UTCDateTime


class ConsoleSession(Base):
    """One signed-in browser: gone at sign-out, at expiry, when its key is deleted or the secret rotates."""

    __tablename__ = "console_session"

    # SHA-256 of the random id in the cookie: reading the table gives no usable cookie.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
