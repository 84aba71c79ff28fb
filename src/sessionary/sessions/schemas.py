"""The Syllable `Session` and its list envelope, exactly as syllable-sdk expects them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from sessionary.types import ZTimestamp


class SessionProperties(StrEnum):
    """The 17 fields a session list can search, order and project on."""

    timestamp = "timestamp"
    session_id = "session_id"
    conversation_id = "conversation_id"
    channel_manager_service = "channel_manager_service"
    channel_manager_type = "channel_manager_type"
    channel_manager_sid = "channel_manager_sid"
    agent_type = "agent_type"
    agent_id = "agent_id"
    agent_name = "agent_name"
    prompt_id = "prompt_id"
    prompt_name = "prompt_name"
    source = "source"
    target = "target"
    duration = "duration"
    is_outbound = "is_outbound"
    is_legacy = "is_legacy"
    is_test = "is_test"


class SessionRead(BaseModel):
    """A session is a building block of a conversation."""

    timestamp: ZTimestamp
    session_id: str | None = None
    conversation_id: str | None = None
    channel_manager_service: str | None = None
    channel_manager_type: str | None = None
    channel_manager_sid: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    agent_type: str | None = None
    agent_timezone: str | None = None
    prompt_id: str | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None
    prompt_version_number: int | None = None
    duration: float | None = Field(default=None, description="Seconds")
    session_label_id: str | None = None
    source: str | None = None
    target: str | None = None
    is_legacy: bool | None = None
    is_test: bool | None = None
    is_outbound: bool | None = None
    user_terminated: bool | None = None
    transfer_voicemail_detected: bool | None = None
    override_timestamp: str | None = None


class SessionPage(BaseModel):
    """ListResponse[Session]."""

    items: list[SessionRead]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
