"""The audit trail over the admin API (`GET /api/v1/audit`): an entry, the list envelope."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from sessionary.types import ZTimestamp


class AuditProperties(StrEnum):
    at = "at"
    actor = "actor"
    action = "action"
    target = "target"
    client_ip = "client_ip"


class AuditEntryRead(BaseModel):
    """One administrative act: when, who (the key's prefix, `cli` or `system`), what, to what, from where."""

    id: int
    at: ZTimestamp
    actor: str
    action: str
    target: str | None = None
    details: dict[str, Any] = {}
    client_ip: str | None = None


class AuditPage(BaseModel):
    """ListResponse[AuditEntry]."""

    items: list[AuditEntryRead]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
