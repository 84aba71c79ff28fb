"""The Syllable `Conversation` (reference §6), its list envelope and properties."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from sessionary.types import ZTimestamp


class ConversationProperties(StrEnum):
    """The fields a conversation list can search, order and project on (conversation_id is not one)."""

    timestamp = "timestamp"
    agent_type = "agent_type"
    agent_id = "agent_id"
    agent_name = "agent_name"
    prompt_id = "prompt_id"
    prompt_name = "prompt_name"
    llm_provider = "llm_provider"
    llm_model = "llm_model"
    llm_version = "llm_version"
    is_legacy = "is_legacy"


class ConversationRead(BaseModel):
    """A conversation is a record of messages between a user and an agent, made of one or more sessions."""

    timestamp: ZTimestamp
    conversation_id: str
    agent_id: str | None = None
    agent_name: str | None = None
    agent_type: str | None = None
    prompt_id: str | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None
    llm_provider: str | None = None
    llm_model: str | None = None
    llm_version: str | None = None
    llm_temperature: float | None = None
    llm_seed: int | None = None
    is_legacy: bool | None = None


class ConversationPage(BaseModel):
    """ListResponse[Conversation]."""

    items: list[ConversationRead]
    page: int
    page_size: int
    total_pages: int | None = None
    total_count: int | None = None
