"""An organization's connection to a voice platform (Twilio, Vapi, Retell) that reports calls to a webhook.

The webhook URL holds a random token; only its SHA-256 is stored (`token_hash`), with its first characters
(`token_prefix`) to recognise it in a listing. The provider's secret (Twilio auth token, Vapi server secret,
Retell API key) is stored sealed (`integrations/secrets.py`: Fernet under a key derived from the server
secret); it is never logged nor returned.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, UTCDateTime


class Integration(Base):
    __tablename__ = "integration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))  # twilio | vapi | retell (integrations/providers.py)
    name: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    sealed_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A removed integration's URL answers 404; the row stays for the recordings it still has to fetch.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
