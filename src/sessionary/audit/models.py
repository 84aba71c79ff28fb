"""One row per administrative act (a key made or revoked, a session deleted, an erasure, a retention change,
an export downloaded). No foreign key to what it records: the row outlives the deletion it records. An
erasure's row holds a salted hash of the person's identifier, never the identifier itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sessionary.db import Base
from sessionary.db_types import BigIntPK, JSONType, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_organization_id_at", "organization_id", "at", "id"),
        # The audit retention purge walks entries by age, across organizations.
        Index("ix_audit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who: the clear prefix of the API key used ("cli" for the command line, "system" for the server itself).
    actor: Mapped[str] = mapped_column(String(32))
    # The key's id (no foreign key: keys are revoked, never deleted, but the row must not depend on it).
    actor_key_id: Mapped[int | None] = mapped_column(BigInteger)
    # What: key.created | key.revoked | session.deleted | erasure | retention.changed | export.downloaded
    # | integration.created | integration.removed (audit.service.ACTIONS).
    action: Mapped[str] = mapped_column(String(32))
    # What it was done to: a key's prefix, a session id, ... (never personal data).
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # From which address (behind trusted proxies, as client_ip works it out); NULL for the CLI.
    client_ip: Mapped[str | None] = mapped_column(String(64))
