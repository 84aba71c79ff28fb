"""The Syllable `Event` (reference §6), its list envelope and properties."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from sessionary.types import ZTimestamp


class EventProperties(StrEnum):
    timestamp = "timestamp"
    session_id = "session_id"
    conversation_id = "conversation_id"
    source = "source"
    source_id = "source_id"
    category = "category"
    type = "type"
    user_id = "user_id"
    description = "description"
    attributes = "attributes"


class EventRead(BaseModel):
    """An event represents a specific occurrence during a session."""

    timestamp: ZTimestamp
    session_id: str | None = None
    conversation_id: str | None = None
    source: str | None = None
    source_id: str | None = None
    category: str | None = None
    type: str | None = None
    user_id: str | None = None
    description: str | None = None
    attributes: dict[str, Any] | None = None


class EventPage(BaseModel):
    """ListResponse[Event]."""

    items: list[EventRead]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
