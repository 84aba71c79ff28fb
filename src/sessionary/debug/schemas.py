"""The Syllable session debug responses (reference §5)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, JsonValue

from sessionary.types import ZTimestamp


class DialogRole(StrEnum):
    agent = "agent"
    user = "user"


class DialogMessage(BaseModel):
    text: str


class DialogToolCall(BaseModel):
    tool_call_id: str
    tool_name: str
    tool_arguments: JsonValue
    tool_result: JsonValue  # the key is always sent, null when there is none
    timestamp: ZTimestamp


class SessionMessage(BaseModel):
    role: DialogRole
    dialog: DialogMessage
    tool_calls: list[DialogToolCall]
    timestamp: ZTimestamp


class SessionData(BaseModel):
    session_id: int
    source: str
    target: str
    is_test: bool
    messages: list[SessionMessage]


class ToolResultData(BaseModel):
    tool_name: str
    tool_result: JsonValue
