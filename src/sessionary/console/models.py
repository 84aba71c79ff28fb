"""The console's one table: the secret that signs its cookies when SESSIONARY_SECRET_KEY is not set."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import UTCDateTime


class ConsoleSecret(Base):
    __tablename__ = "console_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
